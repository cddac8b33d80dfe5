from django.urls import path

from api import pages

app_name = "api-keys"

urlpatterns = [
    path("", pages.api_key_list, name="list"),
    path("add/", pages.api_key_add, name="add"),
    path("<int:key_id>/revoke/", pages.api_key_revoke_view, name="revoke"),
]
