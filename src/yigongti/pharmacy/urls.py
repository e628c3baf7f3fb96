"""Pages of the pharmacy (药品耗材), under /pharmacy/."""

from .views import urlpatterns  # noqa: F401

app_name = "pharmacy"
