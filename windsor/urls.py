from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.team_views import invitation_open, workspace_switch
from accounts.throttle import login_throttled
from accounts.views import WindsorLoginView, WindsorPasswordResetView, signup

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="people:list", permanent=False)),
    path("accounts/login/", WindsorLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", signup, name="signup"),
    path("accounts/password-reset/", WindsorPasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("invite/<str:token>/", invitation_open, name="invitation"),
    path("workspaces/switch/", workspace_switch, name="workspace_switch"),
    path("sources/", include("accounts.urls")),
    path("members/", include("accounts.team_urls")),
    path("people/", include("segments.urls")),
    path("feed/", include("feed.urls")),
    path("api/v1/", include("api.urls")),
    path("api-keys/", include("api.key_urls")),
    # The admin's own login form gets the same throttle as ours.
    path("admin/login/", login_throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("", include("ops.urls")),
    path("", include("ingest.urls")),
]
