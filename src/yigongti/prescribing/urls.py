"""Pages of prescribing (处方、审方、发药、点评), under /prescribing/."""

from .views import urlpatterns  # noqa: F401

app_name = "prescribing"
