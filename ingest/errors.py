"""The one error type of the ingest request path; the view maps it to a JSON response once."""

from typing import Any


class IngestError(Exception):
    """A request we answer with an error: `status`, a stable `code` and a human `message`.

    Senders retry 429 and 5xx and drop other 4xx, so the status says whether to try again.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}
