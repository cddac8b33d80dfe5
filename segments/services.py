"""Saving, changing and deleting segments (the rules are segments/models.py's docstring).

Each write is keyword-only and checks who acts: a refusal is `accounts.team.NotAllowed` (a 403);
a filter that does not parse is a `FilterError`, a name taken or empty a `SegmentError`, both
ValueErrors whose message is for people.
"""

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Membership, Workspace
from accounts.team import NotAllowed
from segments.builtin import BUILTINS
from segments.filters import Group, filter_dump, filter_parse
from segments.models import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, Segment
from segments.query import people_matching, segment_filter_of

Visibility = Segment.Visibility


class SegmentError(ValueError):
    """A segment that cannot be saved as asked; the message says why."""

    @property
    def message(self) -> str:
        return str(self.args[0])


def _checked(
    *,
    workspace: Workspace,
    name: str,
    description: str,
    filter: Group | dict,
    visibility: str,
    maker_id: int | None,
    exclude: int | None = None,
) -> tuple[str, str, dict]:
    name = " ".join(name.split())
    description = description.strip()
    if not name:
        raise SegmentError("Give the segment a name.")
    if len(name) > NAME_MAX_LENGTH:
        raise SegmentError(f"A name is at most {NAME_MAX_LENGTH} characters.")
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise SegmentError(f"A description is at most {DESCRIPTION_MAX_LENGTH} characters.")
    if visibility not in Visibility.values:
        raise SegmentError("Choose who sees the segment: only you, or the team.")
    parsed = filter if isinstance(filter, Group) else filter_parse(filter)
    same_name = (
        Segment.objects.for_workspace(workspace)
        .alias(name_lower=Lower("name"))
        .filter(name_lower=name.lower(), visibility=visibility)
        .exclude(pk=exclude)
    )
    if visibility == Visibility.PRIVATE:
        same_name = same_name.filter(created_by_id=maker_id)
    if same_name.exists():
        whose = "the team's" if visibility == Visibility.TEAM else "your private"
        raise SegmentError(f"There is already a segment named “{name}” among {whose} segments.")
    return name, description, filter_dump(parsed)


def _segments_usable(
    *, workspace: Workspace, tree: Group, actor: Membership, visibility: str, segment_id: int | None
) -> None:
    """The saved segments the filter includes exist for whoever will open it (a team segment:
    team segments only) and include no cycle back to this one (FilterError otherwise)."""
    viewer = actor if visibility == Visibility.PRIVATE else None

    def filter_of(ws: Workspace, other: int, who: Membership | None) -> Group | None:
        return tree if other == segment_id else segment_filter_of(ws, other, who)

    # Compiling reads the included segments' filters, and runs no query on people.
    people_matching(
        workspace=workspace,
        filter=tree,
        now=timezone.now(),
        viewer=viewer,
        segment_filter=filter_of,
    )


def segment_create(
    *,
    actor: Membership,
    name: str,
    filter: Group | dict,
    description: str = "",
    visibility: str = Visibility.PRIVATE,
) -> Segment:
    """A new segment of the actor's workspace, made by them (any member may make one)."""
    workspace = actor.workspace
    name, description, dumped = _checked(
        workspace=workspace, name=name, description=description, filter=filter,
        visibility=visibility, maker_id=actor.user_id,
    )  # fmt: skip
    _segments_usable(workspace=workspace, tree=filter_parse(dumped), actor=actor,
                     visibility=visibility, segment_id=None)  # fmt: skip
    try:
        with transaction.atomic():
            return Segment.objects.create(
                workspace=workspace, name=name, description=description, filter=dumped,
                visibility=visibility, created_by_id=actor.user_id, updated_by_id=actor.user_id,
            )  # fmt: skip
    except IntegrityError:  # the same name saved at the same moment
        raise SegmentError(f"There is already a segment named “{name}”.") from None


def _may_change(segment: Segment, actor: Membership) -> None:
    if not segment.editable_by(actor):
        if segment.is_private:
            raise NotAllowed("Only its maker may change a private segment.")
        raise NotAllowed("Only its maker, an owner or an admin may change a team segment.")


def segment_update(
    *,
    segment: Segment,
    actor: Membership,
    name: str,
    filter: Group | dict,
    description: str,
    visibility: str,
) -> Segment:
    """Change a segment's name, description, filter or visibility, as its rules allow."""
    _may_change(segment, actor)
    if visibility != segment.visibility and segment.builtin:
        raise SegmentError("A built-in segment stays visible to the team.")
    name, description, dumped = _checked(
        workspace=segment.workspace, name=name, description=description, filter=filter,
        visibility=visibility, maker_id=segment.created_by_id, exclude=segment.pk,
    )  # fmt: skip
    _segments_usable(workspace=segment.workspace, tree=filter_parse(dumped), actor=actor,
                     visibility=visibility, segment_id=segment.pk)  # fmt: skip
    segment.name, segment.description, segment.filter = name, description, dumped
    segment.visibility = visibility
    segment.updated_by_id = actor.user_id
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        raise SegmentError(f"There is already a segment named “{name}”.") from None
    return segment


def segment_delete(*, segment: Segment, actor: Membership) -> None:
    _may_change(segment, actor)
    segment.delete()


def builtin_segments_ensure(workspace: Workspace) -> list[Segment]:
    """The built-in segments (segments/builtin.py) the workspace lacks, made; idempotent."""
    have = set(
        Segment.objects.for_workspace(workspace)
        .filter(builtin__isnull=False)
        .values_list("builtin", flat=True)
    )
    missing = [
        Segment(
            workspace=workspace,
            builtin=key,
            name=spec["name"],
            description=spec["description"],
            filter=filter_dump(filter_parse(spec["filter"])),
            visibility=Visibility.TEAM,
        )
        for key, spec in BUILTINS.items()
        if key not in have
    ]
    # A member's team segment may already hold a built-in's name: theirs stays, the built-in waits.
    return Segment.objects.bulk_create(missing, ignore_conflicts=True)
