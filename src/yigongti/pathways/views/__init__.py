"""Pages, one module per area; each declares ``urlpatterns`` (joined in ``pathways/urls.py``)."""
