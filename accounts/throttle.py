"""Throttles for login, signup and password reset, counted in Django's cache (Redis in production).

The rules:
- A failed login counts against the account and the client IP. The account is the name typed as
  Django looks it up: stripped and NFKC-normalised (Django's UsernameField and PasswordResetForm
  do both), then case-folded, so every spelling that logs in to one account (a fullwidth "m",
  "Ada@x" and "ada@x", surrounding spaces) counts as that account.
  Past `THROTTLE_LOGIN_FAILURES_PER_ACCOUNT` or `..._PER_IP` failures within the window, every
  login for that account or from that IP is refused with 429 until the window ends, even with
  the right password: otherwise the refusal would tell a guesser when a guess was right.
- A successful login clears the account's count, not the IP's.
- Every signup submission, and every password-reset request, counts against the IP and the
  email typed.
- Windows are fixed: they start with the first counted attempt and end `window` seconds later.
- The client IP is REMOTE_ADDR, or the entry `WINDSOR_PROXY_COUNT` from the right of
  X-Forwarded-For (each proxy appends the address it saw; entries further left are the client's
  own word). With no proxy configured (the default) X-Forwarded-For is ignored: anyone can send
  one.
- An IPv4 client is counted per address, an IPv6 client per /64: one host is routinely given a
  whole /64 and can pick a new address in it for every attempt.
"""

import hashlib
import ipaddress
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

LOGIN = "login"
SIGNUP = "signup"
RESET = "reset"


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    window: int


def client_ip(request: HttpRequest) -> str:
    proxies = settings.WINDSOR_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def proxy_unconfigured(request: HttpRequest) -> bool:
    """The request came through a proxy Windsor was not told about (WINDSOR_PROXY_COUNT is 0):
    the throttles then count every visitor behind it as the proxy's one address."""
    return settings.WINDSOR_PROXY_COUNT == 0 and bool(request.META.get("HTTP_X_FORWARDED_FOR"))


def _ip_and_account_limits(action: str) -> tuple[Limit, Limit]:
    if action == LOGIN:
        per_ip = settings.THROTTLE_LOGIN_FAILURES_PER_IP
        per_account = settings.THROTTLE_LOGIN_FAILURES_PER_ACCOUNT
    elif action == RESET:
        per_ip, per_account = settings.THROTTLE_RESETS_PER_IP, settings.THROTTLE_RESETS_PER_EMAIL
    else:
        per_ip, per_account = settings.THROTTLE_SIGNUPS_PER_IP, settings.THROTTLE_SIGNUPS_PER_EMAIL
    return Limit(f"{action}:ip", *per_ip), Limit(f"{action}:account", *per_account)


def _account(typed: str) -> str:
    # What Django looks the account up by (strip, then NFKC), case-folded: emails are stored
    # lower-cased and the reset form matches them case-insensitively. Folding more than Django
    # does only joins spellings that no two accounts can both be reached by.
    return unicodedata.normalize("NFKC", typed.strip()).strip().casefold()[:254]


def _network(ip: str) -> str:
    """The subject an address is counted as: itself for IPv4, its /64 for IPv6."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:  # not an address (a proxy that writes names): counted as written
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:  # ::ffff:a.b.c.d is the IPv4 client a.b.c.d
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _limits(action: str, *, ip: str, account: str) -> list[tuple[Limit, str]]:
    """Each limit that applies to this attempt, with the subject it counts."""
    per_ip, per_account = _ip_and_account_limits(action)
    account = _account(account)
    return [(per_ip, _network(ip))] + ([(per_account, account)] if account else [])


def _key(limit: Limit, subject: str) -> str:
    # Hashed: what a visitor types is no valid cache key for every backend, nor kept in clear.
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"throttle:{limit.name}:{digest}"


def throttled(action: str, *, ip: str, account: str) -> bool:
    """Whether this attempt is refused: one of its counts has reached its limit."""
    limits = _limits(action, ip=ip, account=account)
    counts = cache.get_many([_key(limit, subject) for limit, subject in limits])
    return any(counts.get(_key(limit, s), 0) >= limit.attempts for limit, s in limits)


def window_count(key: str, window: int) -> int:
    """Add one to the count under `key` in its fixed window of `window` seconds (started by the
    first count); the count after it. Atomic on Redis, so concurrent callers see distinct counts."""
    # add() starts the window only if none is running; incr() is atomic on Redis.
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.add(key, 1, timeout=window)
        return 1


def attempt_count(action: str, *, ip: str, account: str) -> None:
    """Count one attempt (a failed login, a signup) against the IP and the account."""
    for limit, subject in _limits(action, ip=ip, account=account):
        window_count(_key(limit, subject), limit.window)


def account_clear(action: str, *, account: str) -> None:
    _, per_account = _ip_and_account_limits(action)
    cache.delete(_key(per_account, _account(account)))


def throttled_response(request: HttpRequest, action: str) -> HttpResponse:
    """429 with the longest wait that can apply, in words and in Retry-After."""
    wait = max(limit.window for limit in _ip_and_account_limits(action))
    context = {"action": action, "minutes": wait // 60}
    response = render(request, "registration/throttled.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response


def login_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wraps a login view (ours and the admin's): refuses throttled attempts, counts failures.

    A login view redirects when it signs the user in and renders the form again when not.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        ip, account = client_ip(request), request.POST.get("username", "")
        if throttled(LOGIN, ip=ip, account=account):
            return throttled_response(request, LOGIN)
        response = view(request, *args, **kwargs)
        if response.status_code in {301, 302, 303} and request.user.is_authenticated:
            account_clear(LOGIN, account=account)
        else:
            attempt_count(LOGIN, ip=ip, account=account)
        return response

    return wrapper
