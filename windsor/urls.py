from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views import signup

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="people:list", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", signup, name="signup"),
    path("sources/", include("accounts.urls")),
    path("people/", include("people.urls")),
    path("feed/", include("feed.urls")),
    path("admin/", admin.site.urls),
    path("", include("ops.urls")),
    path("", include("ingest.urls")),
]
