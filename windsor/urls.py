from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.throttle import login_throttled
from accounts.views import WindsorLoginView, signup

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="people:list", permanent=False)),
    path("accounts/login/", WindsorLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", signup, name="signup"),
    path("sources/", include("accounts.urls")),
    path("people/", include("people.urls")),
    path("feed/", include("feed.urls")),
    # The admin's own login form gets the same throttle as ours.
    path("admin/login/", login_throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("", include("ops.urls")),
    path("", include("ingest.urls")),
]
