"""The API tests' clock: the Acme data is sent by the minute from two days ago."""

from datetime import datetime, timedelta

from django.utils import timezone

START = timezone.now().replace(microsecond=0) - timedelta(days=2)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)
