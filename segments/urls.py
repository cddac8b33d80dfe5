"""The People area: the People page (segments/views.py applies the filter), saved segments, and
people/urls.py's pages of one person, under one namespace."""

from django.urls import path

import people.urls
from segments import views

app_name = "people"

urlpatterns = [
    path("", views.people_list, name="list"),
    path("count/", views.people_count_view, name="count"),
    path("export.csv", views.people_export, name="export"),
    path("builder-options/", views.builder_options, name="builder_options"),
    path("segments/", views.segment_list, name="segments"),
    path("segments/new/", views.segment_new, name="segment_new"),
    path("segments/<int:segment_id>/edit/", views.segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/delete/", views.segment_delete_view, name="segment_delete"),
    *people.urls.urlpatterns,
]
