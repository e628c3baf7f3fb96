from django.urls import path

from . import views

app_name = "referrals"
urlpatterns = [
    path("", views.my_list, name="list"),
    path("new/", views.referral_new, name="new"),
    path("new/patients/", views.pick_patient, name="pick_patient"),
    path("new/guideline/", views.guideline_check, name="guideline"),
    path("center/", views.center_queue, name="center"),
    path("export/", views.referral_export, name="export"),
    path("rules/", views.rules, name="rules"),
    path("outflow/", views.outflow_page, name="outflow"),
    path("stats/", views.stats, name="stats"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/capacity/", views.capacity, name="capacity"),
    path("<int:pk>/print/", views.print_sheet, name="print"),
    path("<int:pk>/<str:action>/", views.act, name="act"),
    path("<int:pk>/follow-ups/<int:fid>/", views.follow_up, name="follow_up"),
]
