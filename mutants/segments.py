"""Mutants in segments/: named breaks of its promises (see mutants/__main__.py)."""

from mutants.catalog import Mutant, mutant

FILTERS = "tests/segments/test_filters.py"
QUERY = "tests/segments/test_query.py"

MUTANTS: list[Mutant] = [
    # --- The filter model: untrusted JSON -------------------------------------------------------
    mutant(
        "filter-depth-unlimited",
        "groups nest at most 3 deep",
        "segments/filters.py",
        "if depth > MAX_DEPTH:",
        "if False:",
        FILTERS,
    ),
    mutant(
        "filter-conditions-unlimited",
        "a filter holds at most 50 conditions",
        "segments/filters.py",
        "if self.conditions > MAX_CONDITIONS:",
        "if False:",
        FILTERS,
    ),
    mutant(
        "filter-size-after-parsing",
        "a filter's size is checked before its JSON is parsed",
        "segments/filters.py",
        "if size > MAX_BYTES:",
        "if False:",
        FILTERS,
    ),
    mutant(
        "filter-number-unchecked",
        "gt, gte, lt, lte need a number",
        "segments/filters.py",
        'if not _is_number(value):\n            raise FilterError(f"{operator} needs a number',
        'if False:\n            raise FilterError(f"{operator} needs a number',
        FILTERS,
    ),
    # --- Applying it ----------------------------------------------------------------------------
    mutant(
        "segment-people-unscoped",
        "another workspace's people never match a filter",
        "segments/query.py",
        "people = Person.objects.for_workspace(workspace).current()",
        "people = Person.objects.current()",
        QUERY,
    ),
    mutant(
        "segment-merged-people-match",
        "people merged into someone else never match",
        "segments/query.py",
        "people = Person.objects.for_workspace(workspace).current()",
        "people = Person.objects.for_workspace(workspace)",
        QUERY,
    ),
    mutant(
        "segment-text-case-sensitive",
        "equals compares text case-insensitively",
        "segments/query.py",
        '"COALESCE({} AND lower({}) = lower({}), FALSE)"',
        '"COALESCE({} AND {} = {}, FALSE)"',
        QUERY,
    ),
    mutant(
        "segment-is-false-matches-unset",
        "an unset boolean is not false",
        "segments/query.py",
        "return _f(f\"COALESCE(({{}} -> {{}}) = '{test}'::jsonb, FALSE)\", column, key)",
        "return _f(f\"COALESCE(({{}} -> {{}}) = '{test}'::jsonb, {test == 'false'})\", "
        "column, key)",
        QUERY,
    ),
    mutant(
        "segment-number-compares-text",
        "gt matches only JSON numbers and never fails on text",
        "segments/query.py",
        "f\"CASE WHEN {{}} = 'number' THEN {{}} {op} {{}} ELSE FALSE END\"",
        'f"CASE WHEN {{}} IS NOT NULL THEN {{}} {op} {{}} ELSE FALSE END"',
        QUERY,
    ),
    mutant(
        "segment-not-equals-skips-unset",
        "not_equals matches people without the trait",
        "segments/query.py",
        "return ~_json_q(column, key, _NEGATIVE[operator], value, now)",
        "return ~_json_q(column, key, _NEGATIVE[operator], value, now) "
        '& Q(_Test(column, key, "set"))',
        QUERY,
    ),
    mutant(
        "segment-date-offset-ignored",
        "a trait's datetime with an offset is read in UTC",
        "segments/query.py",
        "\"(CASE WHEN left(m[7], 1) = '-' THEN -1 ELSE 1 END) * \"",
        '"0 * "',
        QUERY,
    ),
    mutant(
        "segment-cycle-unchecked",
        "a segment that includes itself is refused as such",
        "segments/query.py",
        "if segment_id in ctx.chain:",
        "if False:",
        QUERY,
    ),
    mutant(
        "segment-nesting-unlimited",
        "segments inside segments go at most 3 deep",
        "segments/query.py",
        "if len(ctx.chain) >= MAX_SEGMENT_DEPTH:",
        "if False:",
        QUERY,
    ),
    mutant(
        "segment-everyone-vanishes-in-or",
        "a condition that holds for everyone still does inside an OR",
        "segments/query.py",
        "return compiled if compiled else Q(pk__isnull=False)",
        "return compiled",
        QUERY,
    ),
    mutant(
        "segment-count-never-estimated",
        "above the limit the count is the planner's estimate",
        "segments/query.py",
        "if everyone <= EXACT_COUNT_UP_TO:",
        "if True:",
        QUERY,
    ),
    mutant(
        "segment-private-visible-to-all",
        "another member's private segment is no such segment",
        "segments/query.py",
        'visible = Q(visibility="team")',
        "visible = Q()",
        QUERY,
    ),
]
