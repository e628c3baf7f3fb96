"""Pages, one module per area; each declares ``urlpatterns`` (joined in ``emergency/urls.py``)."""
