"""Waiting for a job to end, through the API, with a bound."""

from __future__ import annotations

import time
from typing import Any, Protocol


class _Client(Protocol):
    def get(self, url: str, **kwargs: Any) -> Any: ...


ENDED = {"completed", "failed", "cancelled", "interrupted"}


def wait_for_job(client: _Client, job_id: int, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ENDED:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end within {timeout} s")


def wait_for_line(client: _Client, job_id: int, text: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = client.get(f"/api/jobs/{job_id}?tail=200").json()["output"]
        if any(text in line for line in lines):
            return
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never printed {text!r}")
