"""Thin Celery tasks of people/: recompute a workspace's search text (people/search_text.py)."""

from celery import shared_task

from people.search_text import workspace_search_text_rebuild


@shared_task(acks_late=True, ignore_result=True)
def search_text_rebuild(workspace_id: int) -> None:
    workspace_search_text_rebuild(workspace_id)
