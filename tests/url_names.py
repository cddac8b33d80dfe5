"""Every URL name of the root URLconf, and an address for each: the one list the every-URL tests
walk (workspace isolation, security headers, hostile query values), so that a new URL is checked
by all of them, or fails each until it is."""

import re
from collections.abc import Iterator, Mapping

from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Arguments whose pattern takes only some values.
DEFAULTS = {"app_label": "people"}


def url_patterns(
    resolver: URLResolver | None = None, namespace: str = "", prefix: str = ""
) -> Iterator[tuple[str, URLPattern, str]]:
    """(`namespace:name`, or `route:<route>` when it has no name; the pattern; the route before
    it) for every pattern of the URLconf."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + _plain(str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern, inner, route)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or f'route:{pattern.pattern}'}", pattern, prefix


# What the People page and its count read: the older search and menus, a saved segment, the filter
# (`filter`, or the builder form's fields that the page turns into it) and the trait columns.
PEOPLE_SELECTION = (
    "q",
    "group",
    "audience",
    "missing_email",
    "segment",
    "filter",
    "columns",
    "op",
    "gop",
    "cf",
    "ck",
    "co",
    "cv",
    "cd",
    "cg",
)
# The GET parameters each URL name reads; any name not listed reads none. Checked against what the
# views read by tests/test_query_params.py, which walks them with hostile values.
# DRF reads `format` on every API view (?format=json picks the renderer).
READS: dict[str, tuple[str, ...]] = {
    "login": ("next",),
    "logout": ("next",),
    "admin:login": ("next",),
    "route:admin/login/": ("next",),
    "people:list": (*PEOPLE_SELECTION, "after", "before"),
    "people:count": PEOPLE_SELECTION,
    "people:export": PEOPLE_SELECTION,
    "feed:list": ("hidden", "type", "name", "before", "upto"),
    "feed:export": ("hidden", "type", "name"),
    "feed:new": ("hidden", "type", "name", "after", "since"),
    "feed:timeline": ("hidden", "after", "before"),
    "members:audit": ("kind", "after", "before"),
    "api:people": (
        "q",
        "group",
        "audience",
        "missing_email",
        "segment",
        "filter",
        "after",
        "before",
        "limit",
        "format",
    ),
    "api:person": ("format",),
    "api:person-events": (
        "type",
        "name",
        "since",
        "until",
        "hidden",
        "after",
        "before",
        "limit",
        "format",
    ),
    "api:events": (
        "type",
        "name",
        "since",
        "until",
        "hidden",
        "after",
        "before",
        "limit",
        "format",
    ),
    "api:groups": ("after", "before", "limit", "format"),
    "api:segments": ("after", "before", "limit", "format"),
    "api:segment": ("format",),
    "api:group": ("format",),
    "api:schema": ("format", "lang", "version"),
    "api:docs": ("format", "lang", "script"),
}
# What the page needs to read the rest: the Feed redirects to put `hidden` in its URL first,
# the poll answers 400 without its ids.
BASE: dict[str, dict[str, str]] = {
    "feed:list": {"hidden": "0"},
    "feed:export": {"hidden": "1"},
    "feed:new": {"hidden": "0", "after": "0", "since": "0"},
    "feed:timeline": {"hidden": "1"},
}


def url_names() -> list[str]:
    return [name for name, _, _ in url_patterns()]


def url_for(name: str, values: Mapping[str, object]) -> str:
    """An address of the URL name: each argument from `values` by its name (person_id, token...),
    else 1 for an id and "x" for anything else (a page that answers 404 there)."""
    pattern, prefix = next((p, pre) for n, p, pre in url_patterns() if n == name)
    if pattern.name is None:  # the root redirect, the admin's catch-all: no name to reverse
        return "/" + prefix + re.sub(r"\(\?P<\w+>[^)]*\)", "x", _plain(str(pattern.pattern)))
    kwargs = {}
    for arg in pattern.pattern.regex.groupindex:
        kwargs[arg] = values.get(arg, DEFAULTS.get(arg, 1 if arg.endswith("_id") else "x"))
    return reverse(name, kwargs=kwargs)


def _plain(route: str) -> str:
    return route.removeprefix("^").removesuffix("$")
