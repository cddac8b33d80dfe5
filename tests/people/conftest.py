"""Identity test fixtures. The messages and the readings of people are in tests/factories.py."""

import pytest

from accounts.models import Workspace


@pytest.fixture
def ws(db) -> Workspace:
    return Workspace.objects.create(name="Identity tests")
