import pytest


@pytest.fixture
def mail_in_process(settings) -> None:
    """Mail tasks run in the test process, as in the embedded default, so tests read mail.outbox.

    A view queues its mail on commit: tests that are not transactional post inside
    `django_capture_on_commit_callbacks(execute=True)` (or TestCase.captureOnCommitCallbacks).
    """
    settings.CELERY_TASK_ALWAYS_EAGER = True
