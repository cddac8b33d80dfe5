"""The filter model: untrusted JSON in, a typed tree or one FilterError out."""

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segments.filters import (
    EVERYONE,
    MAX_BYTES,
    Audience,
    DidEvent,
    DidNotEvent,
    FilterError,
    Group,
    GroupTrait,
    InSegment,
    Reserved,
    Trait,
    Where,
    conditions_of,
    filter_dump,
    filter_dumps,
    filter_loads,
    filter_parse,
)
from tests.factories import condition

EVERY_KIND = Group(
    "or",
    (
        Trait("plan", "equals", "Pro"),
        Trait("seats", "gt", 10),
        Trait("ratio", "lte", 0.5),
        Trait("tags", "in", ("a", 2)),
        Trait("beta", "is_true"),
        Trait("Spärck ☃️", "contains", "é"),
        Trait("signup", "before", "2026-01-01T00:00:00+02:00"),
        Trait("renew", "within_days", 366),
        Reserved("email", "starts_with", "ada"),
        Reserved("email_domain", "in", ("acme.io", "example.com")),
        Reserved("user_id", "not_equals", "u-1"),
        Reserved("last_seen", "not_within_days", 14),
        Reserved("first_seen", "after", "2026-01-01"),
        Reserved("group", "is_not_set"),
        Group(
            "and",
            (
                GroupTrait("industry", "equals", "Software"),
                GroupTrait("name", "is_set"),
                Audience("vip", "is_false"),
                Group("or", (InSegment(3), InSegment(4, "not_in"))),
            ),
        ),
        DidEvent("Order Completed", "at_least", 3, 30),
        DidEvent("Order Completed", "exactly", 0, 30, Where("amount", "gt", 100)),
        DidNotEvent("Signed In", 14),
    ),
)


def test_a_filter_round_trips_through_its_dict_and_json_forms():
    assert filter_parse(filter_dump(EVERY_KIND)) == EVERY_KIND
    assert filter_loads(filter_dumps(EVERY_KIND)) == EVERY_KIND
    assert filter_loads(filter_dumps(EVERYONE)) == EVERYONE
    assert len(conditions_of(EVERY_KIND)) == 22


def test_the_json_form_is_compact_and_keeps_unicode():
    text = filter_dumps(Group("and", (Trait("Spärck", "equals", "☃️"),)))
    assert text == (
        '{"op":"and","conditions":[{"field":"trait","key":"Spärck","operator":"equals",'
        '"value":"☃️"}]}'
    )


def test_an_empty_object_is_everyone():
    assert filter_parse({}) == EVERYONE
    assert filter_parse({"op": "and", "conditions": []}) == EVERYONE


def group_of(*conditions) -> dict:
    return {"op": "and", "conditions": list(conditions)}


REFUSED = [
    # (filter, path, part of the message)
    ([], "", "A group is a JSON object"),
    ({"op": "xor"}, "op", '"and" or "or"'),
    ({"conditions": {}}, "conditions", "is a list"),
    ({"conditions": [], "limit": 1}, "limit", "Unexpected 'limit'"),
    (group_of(7), "conditions[0]", "A condition is a JSON object"),
    (group_of({"operator": "equals"}), "conditions[0]", 'needs a "field"'),
    (group_of(condition("plan", "equals", "x")), "conditions[0].field", "no field 'plan'"),
    (group_of(condition("trait", "equals", "x")), "conditions[0].key", "A key is non-empty"),
    (group_of(condition("trait", "equals", "x", key="")), "conditions[0].key", "non-empty"),
    (group_of(condition("trait", "equals", "x", key=5)), "conditions[0].key", "non-empty"),
    (group_of(condition("trait", "is", "x", key="a")), "conditions[0].operator", "'is' is not"),
    (
        group_of(condition("trait", "gt", "ten", key="a")),
        "conditions[0].value",
        "gt needs a number",
    ),
    (group_of(condition("trait", "gt", True, key="a")), "conditions[0].value", "needs a number"),
    (group_of(condition("trait", "lt", 1e16, key="a")), "conditions[0].value", "needs a number"),
    (group_of(condition("trait", "equals", True, key="a")), "conditions[0].value", "is_true"),
    (group_of(condition("trait", "equals", [1], key="a")), "conditions[0].value", "text or a"),
    (group_of(condition("trait", "equals", key="a")), "conditions[0].value", "text or a number"),
    (group_of(condition("trait", "is_set", 1, key="a")), "conditions[0].value", "takes no value"),
    (group_of(condition("trait", "contains", 3, key="a")), "conditions[0].value", "non-empty text"),
    (group_of(condition("trait", "in", "a", key="a")), "conditions[0].value", "takes a list"),
    (group_of(condition("trait", "in", [], key="a")), "conditions[0].value", "takes a list"),
    (
        group_of(condition("trait", "in", list(range(101)), key="a")),
        "conditions[0].value",
        "at most 100",
    ),
    (group_of(condition("trait", "in", ["a", None], key="a")), "conditions[0].value[1]", "text"),
    (group_of(condition("trait", "before", "yesterday", key="a")), "conditions[0].value", "ISO"),
    (group_of(condition("trait", "before", "2026-02-30", key="a")), "conditions[0].value", "ISO"),
    (group_of(condition("trait", "after", 20260101, key="a")), "conditions[0].value", "ISO"),
    (group_of(condition("trait", "within_days", 0, key="a")), "conditions[0].value", "1 to 366"),
    (group_of(condition("trait", "within_days", 367, key="a")), "conditions[0].value", "1 to 366"),
    (group_of(condition("trait", "within_days", 1.5, key="a")), "conditions[0].value", "whole"),
    (group_of(condition("trait", "equals", "x" * 501, key="a")), "conditions[0].value", "500"),
    (group_of(condition("trait", "equals", "x", key="k" * 501)), "conditions[0].key", "500"),
    (group_of(condition("email", "gt", 3)), "conditions[0].operator", "not an operator for email"),
    (group_of(condition("email", "equals", 3)), "conditions[0].value", "email is compared with"),
    (
        group_of(condition("email_domain", "equals", "@acme.io")),
        "conditions[0].value",
        'after the "@"',
    ),
    (group_of(condition("email_domain", "contains", "acme")), "conditions[0].operator", "not an"),
    (group_of(condition("last_seen", "equals", "2026-01-01")), "conditions[0].operator", "not an"),
    (group_of(condition("group", "equals", "acme")), "conditions[0].operator", "not an operator"),
    (group_of(condition("audience", "equals", "x", key="vip")), "conditions[0].operator", "not an"),
    (
        group_of(condition("audience", "is_true", key="vip", value=1)),
        "conditions[0].value",
        "Unexp",
    ),
    (group_of(condition("segment", "in", "7")), "conditions[0].value", "by its id"),
    (group_of(condition("segment", "in", 0)), "conditions[0].value", "by its id"),
    (group_of(condition("event", "at_least", 1)), "conditions[0].name", "An event name"),
    (group_of(condition("event", "more", 1, name="x")), "conditions[0].operator", "not an"),
    (
        group_of(condition("event", "at_least", -1, name="x")),
        "conditions[0].value",
        "0 to 1,000,000",
    ),
    (group_of(condition("event", "at_least", 1, name="x", days=400)), "conditions[0].days", "366"),
    (
        group_of(condition("event", "at_least", 1, name="x", where={"key": "a", "operator": "gt"})),
        "conditions[0].where.value",
        "gt needs a number",
    ),
    (
        group_of(
            condition(
                "event",
                "at_least",
                1,
                name="x",
                where={"key": "a", "operator": "before", "value": "2026-01-01"},
            )
        ),
        "conditions[0].where.operator",
        "not an operator for an event property",
    ),
    (group_of({"field": "no_event", "name": "x"}), "conditions[0].days", "1 to 366"),
    (
        group_of(
            condition("event", "at_least", 1, name="x", where={"key": "a", "operator": "is_set"})
        ),
        "conditions[0].days",
        "with a property condition needs days",
    ),
    (
        group_of(
            condition("trait", "is_set", key="a"), group_of(condition("trait", "gt", "x", key="b"))
        ),
        "conditions[1].conditions[0].value",
        "gt needs a number",
    ),
]


@pytest.mark.parametrize(
    ("data", "path", "message"), REFUSED, ids=[r[1] + ":" + r[2] for r in REFUSED]
)
def test_each_malformed_filter_is_refused_with_a_path_and_a_reason(data, path, message):
    with pytest.raises(FilterError) as refused:
        filter_parse(data)
    assert refused.value.path == path
    assert message in refused.value.message
    assert str(refused.value) == (
        f"{path}: {refused.value.message}" if path else refused.value.message
    )


def test_groups_nest_at_most_three_deep():
    three = group_of(group_of(group_of(condition("email", "is_set"))))
    assert filter_parse(three).conditions[0].conditions[0].conditions[0] == Reserved(
        "email", "is_set"
    )
    with pytest.raises(FilterError, match="at most 3 deep") as refused:
        filter_parse(group_of(three))
    assert refused.value.path == "conditions[0].conditions[0].conditions[0]"


def test_a_filter_holds_at_most_fifty_conditions_in_all():
    twenty_five = group_of(*[condition("email", "is_set")] * 25)
    assert len(conditions_of(filter_parse(group_of(twenty_five, twenty_five)))) == 50
    with pytest.raises(FilterError, match="at most 50 conditions") as refused:
        filter_parse(group_of(twenty_five, twenty_five, condition("name", "is_set")))
    assert refused.value.path == "conditions[2]"


def test_the_size_limit_comes_before_parsing():
    with pytest.raises(FilterError, match="too long"):
        filter_loads("[" * (MAX_BYTES + 1))
    with pytest.raises(FilterError, match="too long"):
        filter_loads(
            json.dumps(
                group_of(condition("trait", "equals", "é" * 400, key="a")) | {"x": "é" * 8000}
            )
        )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "nul",
        '{"op": NaN}',
        '{"conditions": [Infinity]}',
        "[" * 5000 + "]" * 5000,
        "{" * 8000,
        "\ud800",
    ],
)
def test_malformed_json_is_a_filter_error(text):
    with pytest.raises(FilterError):
        filter_loads(text)


def test_loads_takes_only_text():
    with pytest.raises(FilterError, match="JSON text"):
        filter_loads(None)  # type: ignore[arg-type]
    assert filter_loads(b'{"op": "or"}') == Group("or", ())


# Arbitrary JSON, and JSON shaped nearly like a filter (right keys, any values).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
names = st.sampled_from(
    ["op", "conditions", "field", "key", "operator", "value", "days", "name", "where"]
)
fields = st.sampled_from(
    ["trait", "email", "email_domain", "name", "phone", "user_id", "first_seen", "last_seen",
     "group", "group_trait", "audience", "segment", "event", "no_event", "and", "or"]
)  # fmt: skip
operators = st.sampled_from(
    ["equals", "not_equals", "in", "contains", "starts_with", "is_set", "is_not_set", "gt", "gte",
     "lt", "lte", "is_true", "is_false", "before", "after", "within_days", "not_within_days",
     "at_least", "at_most", "exactly", "not_in"]
)  # fmt: skip
near_filters = st.recursive(
    json_values | fields | operators,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(names, children, max_size=6),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(json_values, near_filters))
def test_any_json_parses_or_is_a_filter_error(data):
    try:
        parsed = filter_parse(data)
    except FilterError as error:
        assert error.message
        return
    assert filter_parse(filter_dump(parsed)) == parsed


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_loads_or_is_a_filter_error(text):
    with contextlib.suppress(FilterError):
        filter_loads(text)
