from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import LoginView, PasswordResetView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from accounts import throttle
from accounts.activity import source_charts
from accounts.decorators import Capability, WorkspaceRequest, member_required
from accounts.emails import password_reset_mail
from accounts.forms import InvitedSignupForm, SignupForm, SourceForm
from accounts.models import Source
from accounts.selectors import sources_with_recent_rejections
from accounts.services import (
    IssuedToken,
    source_create,
    source_erasure_set,
    source_revoke,
    source_rotate,
    user_signup,
    user_signup_invited,
)
from accounts.signup import session_invitation, signup_open, signup_permitted
from core.secret_pages import render_page


@method_decorator(throttle.login_throttled, name="post")
class WindsorLoginView(LoginView):
    """Django's login, throttled, offering signup only when it is open."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "signup_open": signup_open()}


class WindsorPasswordResetView(PasswordResetView):
    """Django's password reset, throttled like signup (per IP and per email typed).

    The reply is the same whether or not the email has an account, and so is the work: the view
    only queues the email typed, and the worker looks up its accounts and mails them
    (accounts/emails.py). Django's own form would look the account up and mail it here, which
    makes a known address answer slower.
    """

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ip, email = throttle.client_ip(request), request.POST.get("email", "")
        if throttle.throttled(throttle.RESET, ip=ip, account=email):
            return throttle.throttled_response(request, throttle.RESET)
        throttle.attempt_count(throttle.RESET, ip=ip, account=email)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        password_reset_mail(
            email=form.cleaned_data["email"],
            domain=self.request.get_host(),
            use_https=self.request.is_secure(),
        )
        return redirect(self.get_success_url())


SIGNED_UP = (
    "If {email} had no account, its workspace is ready: log in with the password you chose. "
    "If it had one, nothing was changed."
)


SIGNED_UP_INVITED = (
    "If {email} had no account, it is ready and has joined {workspace}: log in with the password "
    "you chose. If it had one, nothing was changed: log in with its password to accept."
)


def signup(request: HttpRequest) -> HttpResponse:
    if not signup_permitted(request):
        context = {"mode": settings.WINDSOR_SIGNUP}
        return render(request, "registration/signup_closed.html", context, status=403)
    invited = session_invitation(request)
    form_class = InvitedSignupForm if invited else SignupForm
    form = form_class(request.POST or None)
    context = {"form": form, "invitation": invited[0] if invited else None}
    if request.method != "POST":
        return render(request, "registration/signup.html", context)
    ip, email = throttle.client_ip(request), request.POST.get("email", "")
    if throttle.throttled(throttle.SIGNUP, ip=ip, account=email):
        return throttle.throttled_response(request, throttle.SIGNUP)
    throttle.attempt_count(throttle.SIGNUP, ip=ip, account=email)
    if not form.is_valid():
        return render(request, "registration/signup.html", context)
    if invited:
        invitation, token = invited
        # The same reply whether or not the email had an account; after logging in, the link
        # takes a new account straight in, and offers an existing one the Join button.
        user_signup_invited(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            invitation=invitation,
        )
        text = SIGNED_UP_INVITED.format(
            email=form.cleaned_data["email"], workspace=invitation.workspace.name
        )
        messages.success(request, text)
        return redirect(f"{reverse('login')}?next={reverse('invitation', args=[token])}")
    # The same reply whether or not the email had an account, so signup cannot be used to
    # learn who has one; the new user logs in with the password just chosen.
    user_signup(
        email=form.cleaned_data["email"],
        password=form.cleaned_data["password"],
        workspace_name=form.cleaned_data["workspace_name"],
    )
    messages.success(request, SIGNED_UP.format(email=form.cleaned_data["email"]))
    return redirect("login")


def _render_sources(
    request: WorkspaceRequest, *, issued: IssuedToken | None = None, form: SourceForm | None = None
) -> HttpResponse:
    sources = list(sources_with_recent_rejections(request.workspace))
    charts = source_charts(workspace=request.workspace, sources=sources, now=timezone.now())
    context = {
        "sources": sources,
        "activity": [(source, *charts[source.pk]) for source in sources],
        "issued": issued,
        "form": form or SourceForm(),
        "can_manage": request.membership.can(Capability.MANAGE_SOURCES),
        "ingest_url": request.build_absolute_uri(reverse("ingest:batch")),
        "base_url": request.build_absolute_uri("/").rstrip("/"),
    }
    return render_page(request, "accounts/sources.html", context, shows_secret=issued is not None)


@member_required()
def source_list(request: WorkspaceRequest) -> HttpResponse:
    return _render_sources(request)


@member_required(Capability.MANAGE_SOURCES)
@require_POST
def source_add(request: WorkspaceRequest) -> HttpResponse:
    form = SourceForm(request.POST)
    if not form.is_valid():
        return _render_sources(request, form=form)
    issued = source_create(
        workspace=request.workspace,
        name=form.cleaned_data["name"],
        kind=form.cleaned_data["kind"],
        created_by=request.user,
    )
    # The token is rendered in this response only; it is never stored in clear.
    return _render_sources(request, issued=issued)


@member_required(Capability.MANAGE_SOURCES)
@require_POST
def source_rotate_view(request: WorkspaceRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(Source.objects.for_workspace(request.workspace), pk=source_id)
    return _render_sources(request, issued=source_rotate(source=source))


@member_required(Capability.MANAGE_SOURCES)
@require_POST
def source_revoke_view(request: WorkspaceRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(Source.objects.for_workspace(request.workspace), pk=source_id)
    source_revoke(source=source)
    return redirect("sources:list")


@member_required(Capability.MANAGE_SOURCES)
@require_POST
def source_erasure_view(request: WorkspaceRequest, source_id: int) -> HttpResponse:
    """Allow or forbid a source's deletes (ingest/erasure_rule.py): owners and admins."""
    source = get_object_or_404(Source.objects.for_workspace(request.workspace), pk=source_id)
    allowed = request.POST.get("allowed") == "1"
    source_erasure_set(source=source, allowed=allowed, actor=request.membership.user)
    state = "may now erase people" if allowed else "may no longer erase people"
    messages.success(request, f"{source.name} {state}.")
    return redirect("sources:list")
