"""The one error vocabulary: domain code raises these, one handler renders them."""

from __future__ import annotations


class AppError(Exception):
    """An expected failure with the HTTP status that describes it."""

    status_code: int = 400

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}

    def extra(self) -> dict[str, object]:
        return {}


class BadRequest(AppError):
    status_code = 400


class Unauthorized(AppError):
    status_code = 401

    def __init__(self, detail: str = "Not authenticated") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status_code = 403


class NotFound(AppError):
    status_code = 404


class Conflict(AppError):
    status_code = 409


class JobConflict(Conflict):
    """Another active job holds the lock this request needs."""

    def __init__(self, detail: str, job_id: int) -> None:
        super().__init__(detail)
        self.job_id = job_id

    def extra(self) -> dict[str, object]:
        return {"job_id": self.job_id}


class PayloadTooLarge(AppError):
    status_code = 413


class UnsupportedMediaType(AppError):
    status_code = 415


class Unprocessable(AppError):
    status_code = 422


class TooManyRequests(AppError):
    status_code = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(AppError):
    status_code = 503


class StartupError(Exception):
    """A startup step failed; the message names the step and what to do."""
