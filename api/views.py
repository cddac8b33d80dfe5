"""The Read API's views: parse the query, call one selector, serialize. Authentication,
read-only permission, throttling and the JSON errors are set once in `ReadView`."""

from functools import cached_property
from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership, Workspace
from api import selectors
from api.authentication import ApiKeyAuthentication, WorkspaceSessionAuthentication
from api.pagination import KeysetPagination
from api.permissions import ReadOnlyCaller
from api.serializers import (
    ErrorSerializer,
    EventSerializer,
    GroupDetailSerializer,
    GroupSerializer,
    PersonDetailSerializer,
    PersonSerializer,
    SegmentSerializer,
)
from api.throttling import ApiKeyRateThrottle
from feed.models import Event
from people import selectors as people_selectors

ERRORS = {status: ErrorSerializer for status in (400, 401, 403, 404, 429)}


class ReadView(APIView):
    authentication_classes = [ApiKeyAuthentication, WorkspaceSessionAuthentication]
    permission_classes = [ReadOnlyCaller]
    throttle_classes = [ApiKeyRateThrottle]

    @property
    def workspace(self) -> Workspace:
        return self.request.auth.workspace

    @cached_property
    def viewer(self) -> Membership | None:
        """Who the caller reads as, for private segments (read once, when needed)."""
        return self.request.auth.viewer()


class PaginatedView(ReadView):
    pagination_class = KeysetPagination

    def paginated(self, fetch: Any, serializer: type, **context: Any) -> Response:
        paginator = self.pagination_class()
        rows = paginator.page_of(self.request, fetch)
        data = serializer(rows, many=True, context={"request": self.request, **context}).data
        return paginator.get_paginated_response(data)


PEOPLE_PARAMS = [
    OpenApiParameter("q", str, description="Search: the start of a name, email or any user id."),
    OpenApiParameter("group", int, description="Only members of this group (its id)."),
    OpenApiParameter("audience", str, description="Only members of this audience."),
    OpenApiParameter("missing_email", bool, description="Only people without an email."),
    OpenApiParameter(
        "segment",
        int,
        description="Only the people of this saved segment (its id; a team segment, or one of "
        "the key's maker's private ones): evaluated now, on current data.",
    ),
    OpenApiParameter(
        "filter",
        str,
        description='Only the people this filter selects: the filter JSON, e.g. {"op": "and", '
        '"conditions": [{"field": "trait", "key": "plan", "operator": "equals", "value": "Pro"}]}'
        " (URL-encoded). A filter refused answers 400 with its `param` and the `path` of the "
        "part refused. With `segment`, both apply.",
    ),
]
EVENT_PARAMS = [
    OpenApiParameter("type", str, enum=Event.Type.values, description="Only this type."),
    OpenApiParameter("name", str, description="Only events of this name."),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="Timestamp at or after."),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="Timestamp before."),
    OpenApiParameter(
        "hidden", int, enum=[0, 1], description="1 includes hidden events (page views)."
    ),
]


class PersonList(PaginatedView):
    @extend_schema(
        parameters=PEOPLE_PARAMS,
        responses={200: PersonSerializer(many=True), **ERRORS},
        summary="People, most recently seen first, with the People page's search and filters, "
        "a saved segment or a filter",
    )
    def get(self, request: Request) -> Response:
        query = selectors.PeopleQuery.from_query(
            request.query_params, workspace=self.workspace, viewer=lambda: self.viewer
        )
        now = timezone.now()
        viewer = self.viewer if query.tree is not None else None

        def fetch(**page: Any) -> Any:
            return selectors.people_selected_page(
                workspace=self.workspace, query=query, viewer=viewer, now=now, **page
            )

        return self.paginated(fetch, PersonSerializer)


def _person_or_404(workspace: Workspace, person_id: int) -> Any:
    person = selectors.person_resolved(workspace, person_id)
    if person is None:
        raise Http404
    return person


class PersonDetail(ReadView):
    @extend_schema(
        responses={200: PersonDetailSerializer, **ERRORS},
        summary="One person: traits, audiences, group and identities",
        description="A merged person's id answers with the person it was merged into (its `id` "
        "says which): no redirect, so clients that drop credentials on redirects still work.",
    )
    def get(self, request: Request, person_id: int) -> Response:
        person = _person_or_404(self.workspace, person_id)
        identities = people_selectors.person_identities(self.workspace, person)
        context = {"request": request, "identities": identities}
        return Response(PersonDetailSerializer(person, context=context).data)


class PersonEventList(PaginatedView):
    @extend_schema(
        parameters=EVENT_PARAMS,
        responses={200: EventSerializer(many=True), **ERRORS},
        summary="One person's events, newest first, with the Feed's filters",
    )
    def get(self, request: Request, person_id: int) -> Response:
        filters = selectors.EventFilters.from_query(request.query_params)
        person = _person_or_404(self.workspace, person_id)
        identity_ids = people_selectors.person_identity_ids(self.workspace, person)

        def fetch(**page: Any) -> Any:
            return selectors.person_events_page(
                workspace=self.workspace,
                person=person,
                identity_ids=identity_ids,
                filters=filters,
                **page,
            )

        return self.paginated(fetch, EventSerializer)


class EventList(PaginatedView):
    @extend_schema(
        parameters=EVENT_PARAMS,
        responses={200: EventSerializer(many=True), **ERRORS},
        summary="The workspace's events, newest first, with the Feed's filters",
    )
    def get(self, request: Request) -> Response:
        filters = selectors.EventFilters.from_query(request.query_params)

        def fetch(**page: Any) -> Any:
            return selectors.events_page(workspace=self.workspace, filters=filters, **page)

        return self.paginated(fetch, EventSerializer)


class GroupList(PaginatedView):
    @extend_schema(
        responses={200: GroupSerializer(many=True), **ERRORS},
        summary="The workspace's groups, newest first",
    )
    def get(self, request: Request) -> Response:
        def fetch(**page: Any) -> Any:
            return selectors.groups_page(workspace=self.workspace, **page)

        return self.paginated(fetch, GroupSerializer)


class GroupDetail(ReadView):
    @extend_schema(
        responses={200: GroupDetailSerializer, **ERRORS},
        summary="One group, with its most recently seen members",
    )
    def get(self, request: Request, group_id: int) -> Response:
        group = selectors.group_for_api(self.workspace, group_id)
        if group is None:
            raise Http404
        members = selectors.group_members(self.workspace, group).rows
        context = {"request": request, "members": members}
        return Response(GroupDetailSerializer(group, context=context).data)


class SegmentList(PaginatedView):
    @extend_schema(
        responses={200: SegmentSerializer(many=True), **ERRORS},
        summary="The saved segments the caller may see, newest first, each with its count",
        description="Team segments and the key's maker's private ones. Each count is computed "
        "now (`exact: false`: an estimate, where an exact count would be slow).",
    )
    def get(self, request: Request) -> Response:
        def fetch(**page: Any) -> Any:
            return selectors.segments_page(workspace=self.workspace, viewer=self.viewer, **page)

        paginator = self.pagination_class()
        rows = paginator.page_of(request, fetch)
        counts = selectors.segment_counts(
            workspace=self.workspace, viewer=self.viewer, segments=rows, now=timezone.now()
        )
        context = {"request": request, "counts": counts}
        return paginator.get_paginated_response(
            SegmentSerializer(rows, many=True, context=context).data
        )


class SegmentDetail(ReadView):
    @extend_schema(
        responses={200: SegmentSerializer, **ERRORS},
        summary="One saved segment, with its count; its people: /api/v1/people/?segment=<id>",
    )
    def get(self, request: Request, segment_id: int) -> Response:
        segment = selectors.segment_visible(self.workspace, self.viewer, segment_id)
        if segment is None:
            raise Http404
        counts = selectors.segment_counts(
            workspace=self.workspace, viewer=self.viewer, segments=[segment], now=timezone.now()
        )
        context = {"request": request, "counts": counts}
        return Response(SegmentSerializer(segment, context=context).data)
