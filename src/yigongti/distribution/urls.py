"""Pages of the distribution app (药品配送), under /distribution/."""

from .views import urlpatterns  # noqa: F401

app_name = "distribution"
