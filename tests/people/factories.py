"""A small factory for people, identities and events, made with the ORM directly: the People pages
read these rows whatever service wrote them. (Not a conftest.py: the identity tests own one.)"""

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts.models import Workspace
from feed.models import Event
from people.models import Group, Identity, Person

_ids = itertools.count(1)


@dataclass
class PeopleFactory:
    workspace: Workspace
    now: datetime

    def group(self, *, group_id: str = "acme", name: str = "Acme Inc", **traits) -> Group:
        return Group.objects.create(
            workspace=self.workspace, group_id=group_id, name=name, traits={"name": name, **traits}
        )

    def person(
        self,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        email: str | None = None,
        name: str | None = None,
        phone: str | None = None,
        avatar: str | None = None,
        traits: dict | None = None,
        audiences: dict | None = None,
        group: Group | None = None,
        minutes_ago: int = 0,
        event_count: int = 0,
    ) -> Person:
        seen = self.now - timedelta(minutes=minutes_ago)
        if user_id is None and anonymous_id is None:
            user_id = f"user-{next(_ids)}"
        person = Person.objects.create(
            workspace=self.workspace,
            email=email,
            name=name,
            phone=phone,
            avatar=avatar,
            traits={
                **{k: v for k, v in {"email": email, "name": name}.items() if v},
                **(traits or {}),
            },
            audiences=audiences or {},
            group=group,
            is_identified=user_id is not None,
            first_seen=seen - timedelta(days=3),
            last_seen=seen,
            event_count=event_count,
        )
        for value, kind in ((user_id, "user"), (anonymous_id, "anonymous")):
            if value:
                Identity.objects.create(
                    workspace=self.workspace,
                    value=value,
                    kind=kind,
                    person=person,
                    first_seen=person.first_seen,
                    last_seen=seen,
                    linked_at=person.first_seen,
                    linked_by_message_id=f"msg-link-{value}",
                )
        return person

    def event(
        self,
        person: Person,
        *,
        type: str = "track",
        name: str = "Order Completed",
        properties: dict | None = None,
        minutes_ago: int = 0,
    ) -> Event:
        identity = person.identities.order_by("id").first()
        message_id = str(uuid.uuid4())
        moment = self.now - timedelta(minutes=minutes_ago)
        raw = {"type": type, "messageId": message_id, "properties": properties or {}}
        if type == "track":
            raw["event"] = name
        elif type in {"page", "screen"}:
            raw["name"] = name
        event = Event.objects.create(
            workspace=self.workspace,
            identity=identity,
            type=type,
            name=name,
            properties=properties or {},
            message_id=message_id,
            timestamp=moment,
            received_at=moment,
            hidden=type == "page",
            raw=raw,
        )
        Person.objects.filter(pk=person.pk).update(event_count=person.event_count + 1)
        person.event_count += 1
        return event
