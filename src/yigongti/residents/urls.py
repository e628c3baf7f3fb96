from django.urls import path

from . import index_views, views

app_name = "residents"
urlpatterns = [
    path("", views.resident_list, name="list"),
    path("new/", views.resident_create, name="create"),
    path("export.xlsx", views.resident_export, name="export"),
    path("<int:pk>/", views.resident_detail, name="detail"),
    path("<int:pk>/edit/", views.resident_edit, name="edit"),
    path("<int:pk>/unmask/", views.resident_unmask, name="unmask"),
    path("<int:pk>/merge/", index_views.merge, name="merge"),
    path("merges/<int:event_id>/undo/", index_views.unmerge, name="unmerge"),
    path("find/", index_views.find_person, name="find"),
    path("imports/", index_views.import_list, name="imports"),
    path("imports/upload/", index_views.import_upload, name="import_upload"),
    path("imports/mapping/", index_views.import_mapping, name="import_mapping"),
    path("imports/template.xlsx", index_views.import_template, name="import_template"),
    path("imports/<int:pk>/", index_views.import_detail, name="import"),
    path("imports/<int:pk>/report.csv", index_views.import_report, name="import_report"),
    path("imports/<int:pk>/commit/", index_views.import_commit, name="import_commit"),
    path("imports/<int:pk>/discard/", index_views.import_discard, name="import_discard"),
    path("reviews/", index_views.review_queue, name="reviews"),
    path("reviews/<int:pk>/", index_views.review_detail, name="review"),
    path("reviews/<int:pk>/decide/", index_views.review_decide, name="review_decide"),
]
