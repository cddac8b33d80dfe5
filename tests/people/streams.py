"""Message streams for the identity tests: Hypothesis's random message sets over a few ids and
their random deliveries, and the overlapping stream two workers store at once."""

from datetime import timedelta

from hypothesis import strategies as st

from accounts.models import Workspace
from ingest.store import batch_process
from tests.factories import BASE_TIME, stored_message

USERS = ["u1", "u2", "u3"]
ANONYMOUS = ["a1", "a2", "a3"]
JUNK = ["null", "undefined", "0"]

maybe_user = st.sampled_from([None, *USERS, USERS[0], JUNK[0]])
maybe_anonymous = st.sampled_from([None, *ANONYMOUS, JUNK[1]])
any_id = st.sampled_from([*USERS, *ANONYMOUS, JUNK[2]])
traits = st.dictionaries(
    st.sampled_from(["email", "plan", "vip_users", "firstName"]),
    st.sampled_from(["a@x.io", "b@x.io", "free", "pro", True, False, None]),
    max_size=3,
)
# What an Engage (Personas) sync carries: people/identity.py `is_sync`.
PERSONAS = {"computation_class": "audience", "computation_key": "vip_users", "space_id": "spa_1"}


@st.composite
def messages(draw: st.DrawFn) -> list[dict]:
    out = []
    for index in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["identify", "identify", "track", "page", "group", "alias"]))
        message = {
            "source_id": None,
            "type": kind,
            # Few distinct minutes so that ties (broken by messageId) happen often; the prefix
            # makes the messageId order unrelated to the generation order.
            "message_id": f"{draw(st.integers(0, 9))}-{index}",
            "user_id": draw(maybe_user),
            "anonymous_id": draw(maybe_anonymous),
            "previous_id": None,
            "group_id": None,
            "event": "Clicked" if kind == "track" else None,
            "name": "Home" if kind == "page" else None,
            "properties": {},
            "traits": {},
            "context": {},
        }
        if kind == "identify":
            message["traits"] = draw(traits)
        elif kind in {"track", "page"} and draw(st.booleans()):
            message["context"] = {"traits": draw(traits)}
        if kind in {"identify", "track"} and draw(st.integers(0, 3)) == 0:
            # An audience or computed-trait sync: traits, but no first or last seen.
            message["context"] = {**message["context"], "personas": PERSONAS}
        elif kind == "group":
            message["group_id"] = draw(st.sampled_from(["g1", "g2", "null"]))
            message["traits"] = draw(
                st.dictionaries(st.just("plan"), st.sampled_from(["s", "m"]), max_size=1)
            )
        elif kind == "alias":
            message["previous_id"] = draw(any_id)
            message["user_id"] = draw(st.sampled_from([*USERS, *ANONYMOUS, JUNK[0]]))
        moment = (BASE_TIME + timedelta(minutes=draw(st.integers(0, 3)))).isoformat()
        message["timestamp"] = message["received_at"] = moment
        message["raw"] = {"messageId": message["message_id"]}
        out.append(message)
    return out


@st.composite
def delivery(draw: st.DrawFn, messages: list[dict]) -> list[list[dict]]:
    """The messages in a random order, some repeated, cut into random batches."""
    repeats = draw(st.lists(st.sampled_from(messages), max_size=len(messages)))
    stream = draw(st.permutations(messages + repeats))
    batches, start = [], 0
    while start < len(stream):
        size = draw(st.integers(1, 6))
        batches.append(stream[start : start + size])
        start += size
    return batches


def deliver(batches: list[list[dict]]) -> Workspace:
    workspace = Workspace.objects.create(name="property")
    for batch in batches:
        batch_process([{**m, "workspace_id": workspace.pk} for m in batch])
    return workspace


def overlapping_stream(workspace_id: int) -> list[dict]:
    """Visitors who sign up, users who alias old ids, identifies with conflicting traits."""
    out = []
    for i in range(40):
        user, visitor, old = f"user-{i}", f"visitor-{i}", f"legacy-{i % 10}"
        out += [
            stored_message(workspace_id, "page", anonymous_id=visitor, name="Home", minute=i),
            stored_message(
                workspace_id,
                "identify",
                user_id=user,
                anonymous_id=visitor,
                traits={"email": f"{i}@x.io", "plan": "free"},
                minute=i + 1,
            ),
            stored_message(
                workspace_id, "identify", user_id=user, traits={"plan": "pro"}, minute=i + 2
            ),
            stored_message(workspace_id, "track", user_id=user, event="Bought", minute=i + 3),
            # Ten legacy ids each aliased into four users: merges that chain users together.
            stored_message(workspace_id, "alias", previous_id=old, user_id=user, minute=i + 4),
            stored_message(workspace_id, "group", user_id=user, group_id=f"g{i % 3}", minute=i + 5),
        ]
    return out
