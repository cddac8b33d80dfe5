"""The Members page, invitations, the audit log and the workspace switcher.

Who may do what is decided in accounts/team.py and checked for each page by
accounts.decorators.member_required; these views look rows up within the current workspace
(another workspace's member or invitation is a 404). A refusal (`NotAllowed`) is a 403 wherever
it is raised; the last owner's is told as a message on the Members page (`refused_to`).
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from accounts import holdings, team
from accounts.audit import AUDIT_KINDS, audit_page
from accounts.decorators import Capability, WorkspaceRequest, member_required
from accounts.emails import invitation_mail
from accounts.forms import InvitationForm, InvitedSignupForm, RoleForm
from accounts.invitation_limits import TooMany
from accounts.middleware import TeamRequest, workspace_choose
from accounts.models import Invitation, Membership
from accounts.signup import invitation_remember, signup_permitted
from core.secret_pages import render_page


def invitation_link(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("invitation", args=[token]))


def _render_members(
    request: WorkspaceRequest,
    *,
    issued: team.IssuedInvitation | None = None,
    mailed: bool = True,
    form: InvitationForm | None = None,
    status: int = 200,
    refusal: TooMany | None = None,
) -> HttpResponse:
    me = request.membership
    members = (
        Membership.objects.for_workspace(request.workspace)
        .select_related("user")
        .order_by("created_at", "id")
    )
    rows = [
        {
            "membership": m,
            "manageable": team.may_manage(me, m),
            "roles": [(r, Membership.Role(r).label) for r in team.roles_grantable_by(me)],
        }
        for m in members
    ]
    invitations = (
        Invitation.objects.for_workspace(request.workspace)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
    )
    grantable = team.roles_grantable_by(me)
    context = {
        "me": me,
        "rows": rows,
        "invitations": invitations,
        "can_manage": me.can(Capability.MANAGE_MEMBERS),
        "form": form or InvitationForm(),
        "role_choices": [(r, Membership.Role(r).label) for r in grantable],
        "issued": issued,
        "issued_link": invitation_link(request, issued.token) if issued else None,
        "mailed": mailed,
        "grantable": grantable,
        "refusal": refusal,
    }
    if refusal is not None:
        status = 429
    response = render(request, "accounts/members.html", context, status=status)
    if refusal is not None:
        response["Retry-After"] = str(refusal.retry_after)
    if issued is not None:
        # The link is a credential, shown in this response only.
        add_never_cache_headers(response)
    return response


@member_required()
def member_list(request: WorkspaceRequest) -> HttpResponse:
    return _render_members(request)


def _send(request: WorkspaceRequest, issued: team.IssuedInvitation) -> HttpResponse:
    mailed = invitation_mail(
        invitation=issued.invitation, link=invitation_link(request, issued.token)
    )
    return _render_members(request, issued=issued, mailed=mailed)


@member_required(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_create_view(request: WorkspaceRequest) -> HttpResponse:
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _render_members(request, form=form, status=400)
    try:
        issued = team.invitation_create(
            actor=request.membership,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
    except TooMany as refusal:
        return _render_members(request, form=form, refusal=refusal)
    return _send(request, issued)


def _invitation(request: WorkspaceRequest, invitation_id: int) -> Invitation:
    return get_object_or_404(Invitation.objects.for_workspace(request.workspace), pk=invitation_id)


@member_required(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_resend_view(request: WorkspaceRequest, invitation_id: int) -> HttpResponse:
    invitation = _invitation(request, invitation_id)
    try:
        issued = team.invitation_resend(actor=request.membership, invitation=invitation)
    except TooMany as refusal:
        return _render_members(request, refusal=refusal)
    return _send(request, issued)


@member_required(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_revoke_view(request: WorkspaceRequest, invitation_id: int) -> HttpResponse:
    invitation = _invitation(request, invitation_id)
    team.invitation_revoke(actor=request.membership, invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} was revoked.")
    return redirect("members:list")


def _member(request: WorkspaceRequest, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.for_workspace(request.workspace).select_related("user"),
        pk=membership_id,
    )


@member_required(Capability.MANAGE_MEMBERS, refused_to="members:list")
@require_POST
def member_role_view(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    target = _member(request, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a role: owner, admin or member.")
        return redirect("members:list")
    team.member_role_change(actor=request.membership, target=target, role=form.cleaned_data["role"])
    messages.success(request, f"{target.user.email} is now {target.get_role_display().lower()}.")
    return redirect("members:list")


def _source_choices(request: HttpRequest) -> dict[int, str]:
    """The removal form's `source_<id>` fields: source id -> keep, rotate or revoke."""
    choices = {}
    for field, value in request.POST.items():
        name, _, pk = field.partition("_")
        well_formed = name == "source" and pk.isascii() and pk.isdigit() and len(pk) < 19
        if well_formed and value in holdings.SOURCE_CHOICES:
            choices[int(pk)] = value
    return choices


@member_required(Capability.MANAGE_MEMBERS, refused_to="members:list")
@require_http_methods(["GET", "POST"])
def member_remove_view(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    """GET: what removing them does (their API keys and invitations go; their sources are
    offered to rotate or revoke). POST: remove them, as chosen."""
    actor = request.membership
    target = _member(request, membership_id)
    if target.pk == actor.pk:
        # Leaving has its own button and URL, so that a stale page cannot remove oneself.
        raise team.NotAllowed("Use Leave workspace to leave.")
    if not team.may_manage(actor, target):
        raise team.NotAllowed("Your role does not allow changing this member.")
    if request.method == "GET":
        context = {"target": target, "held": holdings.holdings_of(target)}
        response = render(request, "accounts/member_remove.html", context)
        add_never_cache_headers(response)
        return response
    issued = team.member_remove(actor=actor, target=target, sources=_source_choices(request))
    messages.success(request, f"{target.user.email} was removed from {request.workspace}.")
    if issued:
        # The rotated sources' new tokens: in this response only, never stored in clear.
        return render_page(
            request, "accounts/member_removed.html", {"issued": issued}, shows_secret=True
        )
    return redirect("members:list")


@member_required(refused_to="members:list")
@require_POST
def member_leave_view(request: WorkspaceRequest) -> HttpResponse:
    me = request.membership
    name = me.workspace.name
    team.member_remove(actor=me, target=me)
    messages.success(request, f"You left {name}.")
    return redirect("people:list")


@member_required(Capability.OWNER)
def audit_log(request: WorkspaceRequest) -> HttpResponse:
    page = audit_page(
        workspace=request.workspace,
        kind=request.GET.get("kind"),
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    return render(request, "accounts/audit_log.html", {"page": page, "kinds": AUDIT_KINDS})


@member_required()
@require_POST
def workspace_switch(request: WorkspaceRequest) -> HttpResponse:
    try:
        workspace_id = int(request.POST.get("workspace", ""))
    except ValueError:
        raise Http404("No such workspace.") from None
    if not any(m.workspace_id == workspace_id for m in request.memberships):
        raise Http404("No such workspace.")
    workspace_choose(request, workspace_id)
    # To the People page, not back where they were: that URL may name the other workspace's rows.
    return redirect("people:list")


# --- opening a link ------------------------------------------------------------------------------


def invitation_open(request: TeamRequest, token: str) -> HttpResponse:
    """The link in the mail. Anonymous: sign up (or log in) to join. Signed in: a Join button."""
    invitation = team.invitation_for_token(token)
    user = request.user
    if invitation is None:
        return _invitation_gone(request, None)
    if (
        invitation.state == Invitation.State.ACCEPTED
        and user.is_authenticated
        and invitation.accepted_by_id == user.pk
        and any(m.workspace_id == invitation.workspace_id for m in request.memberships)
    ):
        # Signed up with this link, then logged in: go straight in.
        workspace_choose(request, invitation.workspace_id)
        return redirect("people:list")
    if team.invitation_state(invitation) != Invitation.State.PENDING:
        return _invitation_gone(request, invitation)
    if user.is_authenticated:
        if request.method == "POST":
            membership = team.invitation_accept(invitation=invitation, user=user)
            if membership is None:
                return _invitation_gone(request, Invitation.objects.get(pk=invitation.pk))
            workspace_choose(request, invitation.workspace_id)
            messages.success(
                request,
                f"Welcome to {invitation.workspace.name}: you are "
                f"{membership.get_role_display().lower()} here.",
            )
            return redirect("people:list")
        already = any(m.workspace_id == invitation.workspace_id for m in request.memberships)
        response = render(
            request, "accounts/invitation.html", {"invitation": invitation, "already": already}
        )
    else:
        invitation_remember(request, token)
        context = {
            "invitation": invitation,
            "can_sign_up": signup_permitted(request),
            "form": InvitedSignupForm(initial={"email": invitation.email}),
            "login_url": f"{reverse('login')}?next={reverse('invitation', args=[token])}",
        }
        response = render(request, "accounts/invitation.html", context)
    add_never_cache_headers(response)
    return response


def _invitation_gone(request: HttpRequest, invitation: Invitation | None) -> HttpResponse:
    state = team.invitation_state(invitation) if invitation else "unknown"
    status = 410 if invitation else 404
    response = render(request, "accounts/invitation_gone.html", {"state": state}, status=status)
    add_never_cache_headers(response)
    return response
