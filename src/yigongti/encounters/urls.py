from django.urls import path

from . import views

app_name = "encounters"
urlpatterns = [
    path("<int:pk>/", views.encounter_detail, name="detail"),
    path("residents/<int:pk>/", views.resident_timeline, name="timeline"),
]
