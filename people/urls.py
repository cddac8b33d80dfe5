from django.urls import path

from people import views

# Included by segments/urls.py, whose People page (the list) applies the filters: the namespace
# "people" is declared there.

app_name = "people"

urlpatterns = [
    path("<int:person_id>/", views.person_detail, name="detail"),
    path("<int:person_id>/hidden-events/", views.person_hidden_toggle, name="hidden_toggle"),
    path("<int:person_id>/delete/", views.person_delete_view, name="delete"),
    path("suppressions/", views.suppression_list, name="suppressions"),
    path("search-settings/", views.search_settings, name="search_settings"),
    path("suppressions/<int:suppression_id>/lift/", views.suppression_lift_view, name="lift"),
]
