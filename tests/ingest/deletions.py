"""Segment's forwarded user deletions in tests: the recorded requests, sending them, a person to
erase (`seed`) and whether they are gone."""

import json

from people.models import Identity
from tests.http import post
from tests.recorded import destination_path, recorded

USER = "user-123"  # the userId in tests/fixtures/segment-deletion/segment-delete.jsonl


def deletions() -> list:
    return recorded("segment-delete", folder="segment-deletion")


def send_recorded(client, request, token: str, *, path: str | None = None, body=None):
    request = request.with_token(token)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
    data = json.dumps(body).encode() if body is not None else request.encoded_body()
    return post(client, path or destination_path(request), None, raw=data, headers=headers)


def seed(client, token: str, user_id: str = USER, n: int = 0) -> None:
    batch = [
        {
            "type": "identify",
            "userId": user_id,
            "anonymousId": f"anon-of-{user_id}",
            "messageId": f"seed-{user_id}-{n}",
            "traits": {"email": f"{user_id}@x.io", "name": "Ada"},
        },
        {"type": "track", "userId": user_id, "event": "Paid", "messageId": f"paid-{user_id}-{n}"},
        {"type": "page", "anonymousId": f"anon-of-{user_id}", "messageId": f"pg-{user_id}-{n}"},
    ]
    assert post(client, "/v1/batch", {"batch": batch}, token=token).status_code == 200
    assert Identity.objects.filter(value=user_id).exists()


def gone(user_id: str = USER) -> bool:
    return not Identity.objects.filter(value__in=[user_id, f"anon-of-{user_id}"]).exists()
