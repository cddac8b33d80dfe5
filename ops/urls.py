from django.urls import path

from ops import views

app_name = "ops"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("status/", views.status, name="status"),
    path(
        "status/dead-letters/<int:letter_id>/store-again/",
        views.dead_letter_store_again,
        name="store-again",
    ),
]
