"""Shared helpers every app may use: paging, bulk writes and COPY, locks, charts, secrets, the
parsed message. The core imports no app (tests/test_layers.py), so any app can import it."""
