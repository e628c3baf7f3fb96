from django.urls import path

from .views import budget

app_name = "insurance"
urlpatterns = [
    path("", budget.ledger, name="ledger"),
]
