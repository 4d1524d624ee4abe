"""Types shared by the request and response schemas of every area."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


def _clean(value: str) -> str:
    # A lone surrogate cannot be stored as UTF-8 and NUL cuts C strings short.
    if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
        raise ValueError("must not contain NUL or unpaired surrogate characters")
    return value


CleanStr = Annotated[str, AfterValidator(_clean)]


class StrictBody(BaseModel):
    """Request bodies: unknown fields are refused rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class JobStarted(BaseModel):
    job_id: int
    status: str
