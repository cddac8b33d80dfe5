"""The helpers the People templates use to show sender values: plain text, never markup."""

from django.http import QueryDict
from django.utils.safestring import SafeData

from core.paging import Cursor
from people.selectors import TraitRow, trait_rows
from people.templatetags.people_tags import query_with


def test_nested_traits_become_readable_rows():
    rows = trait_rows(
        {
            "plan": "pro",
            "address": {"city": "Paris", "geo": {"lat": 48.85}},
            "tags": ["a", "b"],
            "orders": [{"id": 1}, {"id": 2}],
            "vip": True,
            "manager": None,
            "empty": {},
        }
    )

    assert rows == [
        TraitRow("address.city", "Paris"),
        TraitRow("address.geo.lat", "48.85", "number"),
        TraitRow("empty", "{}", "json"),
        TraitRow("manager", "null", "null"),
        TraitRow("orders[0].id", "1", "number"),
        TraitRow("orders[1].id", "2", "number"),
        TraitRow("plan", "pro"),
        TraitRow("tags", "a, b"),
        TraitRow("vip", "true", "bool"),
    ]


def test_very_deep_traits_end_as_compact_json():
    deep: dict = {"x": 1}
    for _ in range(50):
        deep = {"d": deep}

    rows = trait_rows(deep)

    assert len(rows) == 1
    assert rows[0].kind == "json"
    assert rows[0].key == "d.d.d.d.d"


def test_trait_values_are_never_marked_safe():
    rows = trait_rows({"<b>": "<script>x</script>", "n": {"<i>": ["<u>", {"<s>": 1}]}})
    for row in rows:
        assert not isinstance(row.key, SafeData)
        assert not isinstance(row.value, SafeData)


def test_query_with_replaces_and_drops_parameters():
    params = QueryDict("q=ada&after=1.2&group=3")

    assert query_with(params, after=None, before="9.9") == "?q=ada&group=3&before=9.9"
    assert query_with(QueryDict(""), after=None) == "?"


def test_cursors_round_trip_and_reject_junk():
    from datetime import UTC, datetime

    moment = datetime(2026, 11, 23, 12, 30, 1, 123456, tzinfo=UTC)
    assert Cursor.decode(Cursor(moment, 42).encode()) == Cursor(moment, 42)
    assert Cursor.decode(Cursor(None, 7).encode()) == Cursor(None, 7)
    for junk in ("", "abc", "1.x", "x.1", "99999999999999999999999.1", "1" * 61):
        assert Cursor.decode(junk) is None
