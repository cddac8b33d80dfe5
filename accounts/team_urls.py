from django.urls import path

from accounts import team_views

app_name = "members"

urlpatterns = [
    path("", team_views.member_list, name="list"),
    path("invite/", team_views.invitation_create_view, name="invite"),
    path(
        "invitations/<int:invitation_id>/resend/",
        team_views.invitation_resend_view,
        name="invitation-resend",
    ),
    path(
        "invitations/<int:invitation_id>/revoke/",
        team_views.invitation_revoke_view,
        name="invitation-revoke",
    ),
    path("<int:membership_id>/role/", team_views.member_role_view, name="role"),
    path("<int:membership_id>/remove/", team_views.member_remove_view, name="remove"),
    path("leave/", team_views.member_leave_view, name="leave"),
    path("audit/", team_views.audit_log, name="audit"),
]
