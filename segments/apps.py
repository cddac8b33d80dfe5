"""Segments: which customers. The filter model (segments/filters.py), applied to people
(segments/query.py), saved and shared (segments/models.py), and the People page that builds it.
Above feed in the import direction (it reads events' counts), below api."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save


def _workspace_created(
    sender: type, instance: Any, created: bool, raw: bool = False, **_: Any
) -> None:
    # accounts (below segments) cannot call segments: every new workspace starts with the
    # built-in segments through this receiver, wherever it was created.
    if created and not raw:
        from segments.services import builtin_segments_ensure

        builtin_segments_ensure(instance)


class SegmentsConfig(AppConfig):
    name = "segments"

    def ready(self) -> None:
        from accounts.models import Workspace

        post_save.connect(_workspace_created, sender=Workspace, dispatch_uid="segments-builtins")
