"""The recorded sender requests in tests/fixtures/: what real SDKs put on the wire.

Every test that replays a sender loads it here, by name, so the data's location is known once.
"""

import base64
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The write key the fixtures were captured with; tests swap in a real token.
FIXTURE_TOKEN = "EXAMPLE_TOKEN"


@dataclass(frozen=True)
class Recorded:
    """One HTTP request a real sender made (see tests/fixtures/segment/README.md)."""

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

    def messages(self) -> list[dict[str, Any]]:
        body = self.body
        return body if isinstance(body, list) else body.get("batch", [body])

    def message_ids(self) -> list[str]:
        return [item["messageId"] for item in self.messages()]


def recorded(name: str, *, folder: str = "segment") -> list[Recorded]:
    """The requests in one fixture file, by file name without `.jsonl`."""
    lines = (FIXTURES / folder / f"{name}.jsonl").read_text().splitlines()
    return [Recorded(**json.loads(line)) for line in lines if line.strip()]


def fixture_names(folder: str = "segment") -> list[str]:
    names = sorted(p.stem for p in (FIXTURES / folder).glob("*.jsonl"))
    if not names:
        # Loud at collection: an empty list would quietly skip every test built on it.
        raise RuntimeError(f"no recorded sender requests in tests/fixtures/{folder}")
    return names


def destination_path(request: Recorded) -> str:
    # Segment's destination posts to whatever URL is configured; we give it /v1/batch.
    return "/v1/batch" if request.path.startswith("(") else request.path
