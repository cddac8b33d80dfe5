"""The API keys page (owners and admins): create a key (shown once), revoke one, see when each
was last used. Members get a 403 from every view here, not only a page without buttons."""

from django import forms
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import Capability, WorkspaceRequest, member_required
from api.models import ApiKey
from api.services import IssuedKey, api_key_create, api_key_revoke
from core.secret_pages import render_page


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=200, help_text="What the key is for, e.g. “Support tool” or “Nightly export”."
    )


def _render(
    request: WorkspaceRequest, *, issued: IssuedKey | None = None, form: ApiKeyForm | None = None
) -> HttpResponse:
    keys = ApiKey.objects.for_workspace(request.workspace).select_related("created_by")
    context = {
        "keys": list(keys.order_by("revoked_at", "-created_at", "-id")),
        "issued": issued,
        "form": form or ApiKeyForm(),
        "api_base": request.build_absolute_uri("/api/v1/"),
    }
    return render_page(request, "api/api_keys.html", context, shows_secret=issued is not None)


@require_GET
@member_required(Capability.MANAGE_SOURCES)
def api_key_list(request: WorkspaceRequest) -> HttpResponse:
    return _render(request)


@require_POST
@member_required(Capability.MANAGE_SOURCES)
def api_key_add(request: WorkspaceRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _render(request, form=form)
    issued = api_key_create(
        workspace=request.workspace, name=form.cleaned_data["name"], created_by=request.user
    )
    # The secret is rendered in this response only; it is never stored in clear.
    return _render(request, issued=issued)


@require_POST
@member_required(Capability.MANAGE_SOURCES)
def api_key_revoke_view(request: WorkspaceRequest, key_id: int) -> HttpResponse:
    key = get_object_or_404(ApiKey.objects.for_workspace(request.workspace), pk=key_id)
    api_key_revoke(key=key)
    return redirect("api-keys:list")
