from django.urls import path

from feed import views

app_name = "feed"

urlpatterns = [
    path("", views.feed_list, name="list"),
    path("export.csv", views.feed_export, name="export"),
    path("new/", views.feed_new, name="new"),
    path("hidden/", views.feed_hidden_toggle, name="hidden"),
    path("<int:event_id>/", views.event_detail, name="event"),
    path("<int:event_id>/raw.json", views.event_raw_download, name="event-raw"),
    path("people/<int:person_id>/", views.timeline, name="timeline"),
    path("people/<int:person_id>/hidden/", views.timeline_hidden_toggle, name="timeline-hidden"),
]
