"""Pages of the asset register (医学装备), under /assets/."""

from .views import urlpatterns  # noqa: F401

app_name = "assets"
