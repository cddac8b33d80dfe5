"""Who may read /metrics: a bearer token, or a client on an allowed network.

The figures cover every workspace of the installation (queue depth, refusals per reason), so
/metrics is not public. A request relayed by a proxy (it carries X-Forwarded-For, Forwarded or
X-Real-IP) is never let in by its address: behind a proxy on the same machine every client
would look like 127.0.0.1. Such requests need the token.
"""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest

PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _bearer(request: HttpRequest) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _from_allowed_network(request: HttpRequest) -> bool:
    if any(header in request.META for header in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.WINDSOR_METRICS_ALLOWED_NETWORKS)


def metrics_allowed(request: HttpRequest) -> bool:
    token = settings.WINDSOR_METRICS_TOKEN
    offered = _bearer(request)
    if token and offered and hmac.compare_digest(offered.encode(), token.encode()):
        return True
    return _from_allowed_network(request)
