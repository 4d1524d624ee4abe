"""Which service has a job in progress (read-only view of the jobs table)."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from cloudlabmanager.storage.tables import jobs

ACTIVE_STATUSES = ("queued", "running")


def active_jobs_by_service(engine: Engine) -> dict[str, int]:
    """service name -> id of its newest queued or running job."""
    query = (
        select(jobs.c.service, func.max(jobs.c.id))
        .where(jobs.c.status.in_(ACTIVE_STATUSES), jobs.c.service.is_not(None))
        .group_by(jobs.c.service)
    )
    with engine.connect() as conn:
        return {str(service): int(job_id) for service, job_id in conn.execute(query)}
