from django.urls import path

from accounts import views

app_name = "sources"

urlpatterns = [
    path("", views.source_list, name="list"),
    path("add/", views.source_add, name="add"),
    path("<int:source_id>/rotate/", views.source_rotate_view, name="rotate"),
    path("<int:source_id>/revoke/", views.source_revoke_view, name="revoke"),
    path("<int:source_id>/erasure/", views.source_erasure_view, name="erasure"),
]
