"""Ingest fixtures: ways to send the recorded SDK requests (tests/recorded.py) and others."""

import base64
from collections.abc import Callable

import pytest


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
