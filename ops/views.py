"""Operating Windsor: health checks, Prometheus metrics and the admin-only Status page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, user_passes_test
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ingest import counters, durability, queue
from ingest.dead_letters import dead_letter_reason, dead_letter_requeue
from ingest.figures import queue_figures
from ingest.models import DeadLetter
from ops.access import metrics_allowed
from ops.health import failures, readiness
from ops.metrics import metrics_registry

DEAD_LETTERS_SHOWN = 50


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and answers; touches neither the database nor Redis."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database, its migrations and Redis are ready; else 503 naming what failed.

    Why a check failed (hosts, ports, driver errors) is shown only to who may read /metrics.
    """
    checks = readiness()
    failed = failures(checks)
    body: dict[str, object] = (
        {"status": "not ready", "failed": failed} if failed else {"status": "ready"}
    )
    if metrics_allowed(request):
        body["checks"] = checks
    return JsonResponse(body, status=503 if failed else 200)


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return JsonResponse(
            {
                "code": "forbidden",
                "message": "Send the metrics token, or scrape from an allowed network.",
            },
            status=403,
        )
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


def staff_required(view):
    """Staff users only: the Status page covers every workspace of the installation."""

    def check(user) -> bool:
        if not user.is_staff:
            raise PermissionDenied
        return True

    return login_required(user_passes_test(check)(view))


@require_GET
@staff_required
def status(request: HttpRequest) -> HttpResponse:
    figures = queue_figures()
    letters = list(DeadLetter.objects.filter(resolved_at__isnull=True)[:DEAD_LETTERS_SHOWN])
    try:
        totals = counters.counters_read()
    except Exception:  # Redis down: the page still shows what the database knows
        totals = None
    client = queue.redis_client()
    context = {
        "figures": figures,
        "durability": durability.redis_durability_problem(client) if client else None,
        "totals": totals,
        "rejections": sorted(
            (key.removeprefix(counters.REJECTED_PREFIX), int(value))
            for key, value in (totals or {}).items()
            if key.startswith(counters.REJECTED_PREFIX)
        ),
        "letters": [
            {
                "letter": letter,
                "reason": dead_letter_reason(letter),
                "count": len(letter.messages or []),
                "workspaces": sorted({m.get("workspace_id") for m in letter.messages or []}),
            }
            for letter in letters
        ],
        "letters_hidden": max(0, figures.dead_letters - len(letters)),
    }
    return render(request, "ops/status.html", context)


@require_POST
@staff_required
def dead_letter_store_again(request: HttpRequest, letter_id: int) -> HttpResponse:
    try:
        queued = dead_letter_requeue(letter_id=letter_id)
    except queue.QueueUnavailable:
        messages.error(
            request, "Neither Redis nor the database could take the messages; try again."
        )
    else:
        if queued:
            messages.success(
                request, f"Dead letter {letter_id}: {queued} messages queued to be stored again."
            )
        else:
            messages.info(request, f"Dead letter {letter_id} was already stored again.")
    return redirect("ops:status")
