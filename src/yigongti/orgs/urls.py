from django.urls import path

from . import views

app_name = "orgs"
urlpatterns = [
    path("facilities/", views.facility_tree, name="tree"),
    path("facilities/<int:pk>/", views.facility_detail, name="facility"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/export/", views.staff_export, name="staff_export"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
