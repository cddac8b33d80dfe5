"""Ingest fixtures: ways to send the recorded SDK requests (tests/recorded.py) and others.
(`embedded`, the embedded default, is in tests/conftest.py: the audit log's tests use it too.)"""

import base64
from collections.abc import Callable

import pytest


@pytest.fixture
def basic() -> Callable[[str], str]:
    def header(token: str) -> str:
        return "Basic " + base64.b64encode(f"{token}:".encode()).decode()

    return header
