"""Two worker processes storing overlapping messages at once: no duplicate person, no lost merge."""

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import Workspace
from feed.models import Event
from ingest.store import batch_process
from people.models import Identity, Person
from tests.factories import canonical_state
from tests.people.streams import overlapping_stream
from tests.services import test_database_url

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WORKER = """
import json, os, sys, time
from pathlib import Path
import django
django.setup()
from ingest.store import batch_process
folder = Path(sys.argv[1])
batches = json.loads((folder / f"batches-{sys.argv[2]}.json").read_text())
(folder / f"ready-{sys.argv[2]}").touch()
while not (folder / "go").exists():
    time.sleep(0.01)
for batch in batches:
    batch_process(batch)
"""


def run_workers(folder: Path, streams: list[list[list[dict]]]) -> None:
    env = dict(os.environ)
    env["DATABASE_URL"] = test_database_url()
    env["DJANGO_DEBUG"] = "1"
    env["DJANGO_SETTINGS_MODULE"] = "windsor.settings"
    procs = []
    for index, batches in enumerate(streams):
        (folder / f"batches-{index}.json").write_text(json.dumps(batches))
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(folder), str(index)],
                cwd=settings.BASE_DIR,
                env=env,
                stderr=subprocess.PIPE,
            )
        )
    deadline = time.monotonic() + 60
    while not all((folder / f"ready-{i}").exists() for i in range(len(streams))):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in procs), [p.stderr.read() for p in procs]
        time.sleep(0.05)
    (folder / "go").touch()
    for proc in procs:
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr.decode()[-3000:]


def test_two_workers_on_overlapping_batches_agree_with_one_worker(tmp_path: Path) -> None:
    together = Workspace.objects.create(name="two workers")
    alone = Workspace.objects.create(name="one worker")
    stream = overlapping_stream(together.pk)
    rng = random.Random(4)
    streams = []
    for _ in range(2):
        # Both workers get every message, in different orders and batch cuts, plus repeats.
        shuffled = stream + rng.sample(stream, 60)
        rng.shuffle(shuffled)
        streams.append([shuffled[i : i + 15] for i in range(0, len(shuffled), 15)])
    run_workers(tmp_path, streams)

    batch_process([{**m, "workspace_id": alone.pk} for m in stream])
    assert canonical_state(together) == canonical_state(alone)
    assert Event.objects.for_workspace(together).count() == len(stream)
    # 40 users in 10 alias chains of 4 (legacy-k links users k, k+10, k+20, k+30).
    assert Person.objects.for_workspace(together).current().count() == 10
    assert Identity.objects.for_workspace(together).count() == 90
    for person in Person.objects.for_workspace(together).current():
        assert (
            person.event_count == Event.objects.for_workspace(together).for_person(person).count()
        )
        assert person.identities.count() == 9
