from django.urls import path

from . import views

app_name = "indicators"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("evidence/", views.evidence, name="evidence"),
    path("refresh/", views.refresh, name="refresh"),
    path("report.<str:fmt>", views.report_download, name="report"),
    path("<str:code>/", views.indicator_detail, name="detail"),
    path("<str:code>/records/", views.indicator_records, name="records"),
    path("<str:code>/records/export/", views.indicator_records_export, name="records_export"),
]
