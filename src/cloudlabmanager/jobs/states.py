"""Job states and the actions a job can perform."""

from __future__ import annotations

from typing import Literal

JobStatus = Literal["queued", "running", "completed", "failed", "cancelled", "interrupted"]
JobAction = Literal["deploy", "stop", "stop_all", "refresh", "destroy"]

QUEUED: JobStatus = "queued"
RUNNING: JobStatus = "running"
COMPLETED: JobStatus = "completed"
FAILED: JobStatus = "failed"
CANCELLED: JobStatus = "cancelled"
INTERRUPTED: JobStatus = "interrupted"

ACTIVE: tuple[JobStatus, ...] = (QUEUED, RUNNING)
ENDED: tuple[JobStatus, ...] = (COMPLETED, FAILED, CANCELLED, INTERRUPTED)
ALL_STATUSES: tuple[JobStatus, ...] = (*ACTIVE, *ENDED)

# The lock of stop-all and refresh: it excludes every other job of the lab.
LAB_LOCK = "*"
