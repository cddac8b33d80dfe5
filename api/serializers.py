"""What the API shows of each thing: explicit fields, read-only, so the schema says exactly what
a client gets and nothing unshown (raw messages, trait versions) is read from the database."""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from people.models import Identity, Person


class GroupRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    group_id = serializers.CharField(help_text="The groupId the sender uses.")
    name = serializers.CharField()


class PersonSerializer(serializers.Serializer):
    """One row of the People list."""

    id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    avatar = serializers.CharField(allow_null=True)
    is_identified = serializers.BooleanField()
    last_seen = serializers.DateTimeField(allow_null=True)
    event_count = serializers.IntegerField()
    audiences = serializers.SerializerMethodField()
    group = GroupRefSerializer(allow_null=True)
    url = serializers.SerializerMethodField()

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_audiences(self, person: Person) -> list[str]:
        """The audiences the person is in (Engage audiences and computed traits)."""
        audiences = person.audiences if isinstance(person.audiences, dict) else {}
        return sorted(str(name) for name, member in audiences.items() if member is True)

    def get_url(self, person: Person) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:person", args=[person.pk]))


class IdentitySerializer(serializers.Serializer):
    value = serializers.CharField(help_text="The userId or anonymousId.")
    kind = serializers.ChoiceField(choices=Identity.Kind.choices)
    first_seen = serializers.DateTimeField(allow_null=True)
    last_seen = serializers.DateTimeField(allow_null=True)
    event_count = serializers.IntegerField()


class PersonDetailSerializer(PersonSerializer):
    first_seen = serializers.DateTimeField(allow_null=True)
    traits = serializers.JSONField()
    identities = serializers.SerializerMethodField()
    events_url = serializers.SerializerMethodField()

    @extend_schema_field(IdentitySerializer(many=True))
    def get_identities(self, person: Person) -> list[dict[str, Any]]:
        return IdentitySerializer(self.context["identities"], many=True).data

    def get_events_url(self, person: Person) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:person-events", args=[person.pk])
        )


class GroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    group_id = serializers.CharField()
    name = serializers.CharField()
    traits = serializers.JSONField()
    created_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    def get_url(self, group: Any) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:group", args=[group.pk]))


class GroupDetailSerializer(GroupSerializer):
    members = serializers.SerializerMethodField()
    members_url = serializers.SerializerMethodField()

    @extend_schema_field(PersonSerializer(many=True))
    def get_members(self, group: Any) -> list[dict[str, Any]]:
        """The most recently seen members; every member through `members_url`."""
        return PersonSerializer(self.context["members"], many=True, context=self.context).data

    def get_members_url(self, group: Any) -> str:
        return self.context["request"].build_absolute_uri(
            f"{reverse('api:people')}?group={group.pk}"
        )


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    name = serializers.CharField(help_text="The track event's or page/screen's name.")
    message_id = serializers.CharField()
    timestamp = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    hidden = serializers.BooleanField(help_text="Page views: hidden unless hidden=1.")
    properties = serializers.JSONField()
    traits = serializers.JSONField(
        source="raw_traits", allow_null=True, help_text="identify and group calls only."
    )
    person_id = serializers.SerializerMethodField()
    user_id = serializers.SerializerMethodField()

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_person_id(self, event: Any) -> int | None:
        identity = self._identity(event)
        return identity.person_id if identity else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_user_id(self, event: Any) -> str | None:
        """The id (userId or anonymousId) the event was sent with."""
        identity = self._identity(event)
        return identity.value if identity else None

    def _identity(self, event: Any) -> Identity | None:
        # A person's events carry only the identity id: their identities are in the context.
        known = self.context.get("identities_by_id")
        if known is not None:
            return known.get(event.identity_id)
        return event.identity


class ErrorSerializer(serializers.Serializer):
    """Every error: 400, 401, 403, 404, 405, 429."""

    code = serializers.CharField(help_text="not_authenticated, forbidden, not_found, throttled, …")
    message = serializers.CharField()
    retry_after = serializers.IntegerField(required=False, help_text="429 only: seconds to wait.")
    param = serializers.CharField(
        required=False,
        help_text="A filter refused: the parameter (filter, or segment for a saved one).",
    )
    path = serializers.CharField(
        required=False,
        help_text="A filter refused: the part refused, e.g. conditions[2].value.",
    )


class CountSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="How many people match.")
    exact = serializers.BooleanField(
        help_text='False: an estimate (an exact count would be slow); show it as "about n".'
    )


class SegmentSerializer(serializers.Serializer):
    """A saved segment: its filter (the People page's filter JSON), evaluated live when read."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    visibility = serializers.ChoiceField(
        choices=["private", "team"], help_text="private: its maker's only; team: every member's."
    )
    filter = serializers.JSONField(help_text="The filter JSON, as /api/v1/people/?filter= takes.")
    builtin = serializers.CharField(
        allow_null=True,
        help_text="Which built-in segment this is (new_this_week…); null for one a member made.",
    )
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    count = serializers.SerializerMethodField()
    people_url = serializers.SerializerMethodField()

    @extend_schema_field({"type": "string", "format": "email", "nullable": True})
    def get_created_by(self, segment: Any) -> str | None:
        """The maker's email; null for a built-in segment or a maker since removed."""
        user = segment.created_by
        return (user.email or user.get_username()) if user is not None else None

    @extend_schema_field(CountSerializer)
    def get_count(self, segment: Any) -> dict[str, Any]:
        found = self.context["counts"][segment.pk]
        return {"n": found.n, "exact": found.exact}

    def get_people_url(self, segment: Any) -> str:
        url = reverse("api:people") + f"?segment={segment.pk}"
        return self.context["request"].build_absolute_uri(url)
