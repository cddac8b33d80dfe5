"""Mutants in segments/ (saved segments and the People page): named breaks of its promises (see
mutants/__main__.py). The filter engine's own are in mutants/segments.py."""

from mutants.catalog import Mutant, mutant

VIEWS = "tests/segments/test_views.py"
SERVICES = "tests/segments/test_services.py"

MUTANTS: list[Mutant] = [
    mutant(
        "private-segment-shown-to-others",
        "a private segment is seen by its maker only: another member gets a 404",
        "segments/models.py",
        "Q(visibility=Segment.Visibility.TEAM) | Q(created_by_id=membership.user_id)",
        "Q(pk__isnull=False)",
        VIEWS,
        "-k",
        "private",
    ),
    mutant(
        "team-segment-changed-by-any-member",
        "a member cannot change or delete a team segment someone else made",
        "segments/models.py",
        "return mine or membership.can(EDITORS)",
        "return True",
        VIEWS,
        "-k",
        "cannot_change",
    ),
    mutant(
        "builtin-segments-not-created",
        "every new workspace starts with the built-in segments",
        "segments/apps.py",
        "        builtin_segments_ensure(instance)\n",
        "        pass\n",
        SERVICES,
        "-k",
        "builtins",
    ),
    mutant(
        "people-filter-param-ignored",
        "the People page shows the people of the filter in its URL",
        "segments/views.py",
        'selection.tree = filter_loads(params["filter"])',
        'filter_loads(params["filter"])',
        VIEWS,
        "-k",
        "filter_in_the_url",
    ),
]
