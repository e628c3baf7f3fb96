from django.urls import path

from . import views

app_name = "encounters"
urlpatterns = [
    path("<int:pk>/", views.encounter_detail, name="detail"),
    path("residents/<int:pk>/", views.resident_timeline, name="timeline"),
    path("imports/", views.import_page, name="imports"),
    path("imports/<str:kind>/template.xlsx", views.import_template, name="import_template"),
]
