"""Settings of the server `make bench` starts for the ingest benchmark: Windsor's own, plus the
bare baseline view (bench/urls.py), which production URLs never mount."""

from windsor.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
