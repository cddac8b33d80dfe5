"""Ingest fixtures: the recorded SDK requests in shared/fixtures/segment, and ways to send them."""

import base64
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "segment"
# The write key the fixtures were captured with; tests swap in a real token.
FIXTURE_TOKEN = "EXAMPLE_TOKEN"


@dataclass(frozen=True)
class Recorded:
    """One HTTP request a real sender made (see shared/fixtures/segment/README.md)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any = None

    def with_token(self, token: str) -> "Recorded":
        """The same request with our token in place of the fixture's write key, wherever it is."""
        basic = base64.b64encode(f"{FIXTURE_TOKEN}:".encode()).decode()
        ours = base64.b64encode(f"{token}:".encode()).decode()
        headers = {k: v.replace(basic, ours) for k, v in self.headers.items()}
        body = json.loads(json.dumps(self.body).replace(FIXTURE_TOKEN, token))
        return Recorded(self.method, self.path.replace(FIXTURE_TOKEN, token), headers, body)

    def encoded_body(self) -> bytes:
        data = json.dumps(self.body).encode()
        if self.headers.get("Content-Encoding") == "gzip":
            return gzip.compress(data)
        return data

    def message_ids(self) -> list[str]:
        body = self.body
        items = body if isinstance(body, list) else body.get("batch", [body])
        return [item["messageId"] for item in items]


def recorded(name: str) -> list[Recorded]:
    """The requests in one fixture file, by file name without `.jsonl`."""
    lines = (FIXTURES / f"{name}.jsonl").read_text().splitlines()
    return [Recorded(**json.loads(line)) for line in lines if line.strip()]


def fixture_names() -> list[str]:
    names = sorted(p.stem for p in FIXTURES.glob("*.jsonl"))
    if not names:
        # Loud at collection: an empty list would quietly skip every test built on it.
        raise RuntimeError(f"no recorded sender requests in {FIXTURES} (shared/ beside the repo?)")
    return names


def destination_path(request: Recorded) -> str:
    # Segment's destination posts to whatever URL is configured; we give it /v1/batch.
    return "/v1/batch" if request.path.startswith("(") else request.path


@pytest.fixture
def embedded(settings) -> None:
    """The embedded default: no Redis, the drain runs in the request (inbox + in-process)."""
    settings.INGEST_REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.INGEST_RATE_LIMIT_PER_SECOND = 0


@pytest.fixture
def basic() -> Callable[[str], str]:
    def header(token: str) -> str:
        return "Basic " + base64.b64encode(f"{token}:".encode()).decode()

    return header
