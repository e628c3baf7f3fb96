"""Pages of the internet hospital: the resident's phone pages under /ihospital/m/, the staff pages under /ihospital/."""

from .views import urlpatterns  # noqa: F401

app_name = "ihospital"
