"""Pages, one module per area; each declares ``urlpatterns`` (joined in ``telemedicine/urls.py``)."""
