"""Pages of payroll and performance (薪酬与绩效), under /performance/."""

from .views import urlpatterns  # noqa: F401

app_name = "performance"
