"""HTTP in tests: requests to the ingest endpoints and the API through Django's test client, the
credentials they carry, the error replies, and the ports of the servers tests start."""

import base64
import json
import socket


def post(
    client,
    path: str,
    body,
    *,
    token: str | None = None,
    headers: dict | None = None,
    content_type: str = "application/json",
    raw: bytes | None = None,
):
    """POST `body` as JSON (or `raw` bytes) to an ingest endpoint, with `token` as a Bearer."""
    headers = dict(headers or {})
    if token is not None:
        headers.setdefault("Authorization", f"Bearer {token}")
    data = raw if raw is not None else json.dumps(body).encode()
    return client.generic("POST", path, data, content_type=content_type, headers=headers)


def post_batch(client, token: str, messages: list[dict]):
    """POST `messages` to /v1/batch as a batch object."""
    return post(client, "/v1/batch", {"batch": messages}, token=token)


def basic(token: str) -> dict[str, str]:
    """The headers of a source token sent as Segment's SDKs send it: Basic, the token as user."""
    return {"Authorization": "Basic " + base64.b64encode(f"{token}:".encode()).decode()}


def bearer(secret: str) -> dict[str, str]:
    """The test client's keyword for an API key sent as a Bearer token."""
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def assert_error(response, status: int, code: str) -> dict:
    """The reply is our JSON error with this status and code (and a message); returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    return body


def free_port() -> int:
    """A port no one listens on now, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
