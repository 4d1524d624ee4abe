"""Job rows, their steps and host results in the database (output lines: output_store).

Synchronous: the engine calls these from worker threads. Every status change
goes through `transition`, a conditional UPDATE that must change exactly one row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, insert, or_, select, update

from cloudlabmanager.errors import JobConflict, NotFound
from cloudlabmanager.jobs.output_store import OutputStore
from cloudlabmanager.jobs.states import ACTIVE, LAB_LOCK, JobStatus
from cloudlabmanager.storage.clock import as_utc, utcnow
from cloudlabmanager.storage.tables import job_host_results, job_steps, jobs


@dataclass
class JobRow:
    id: int
    action: str
    service: str | None
    lock_key: str
    status: str
    params: dict[str, Any]
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    exit_code: int | None
    deployment_id: str | None
    error: str | None
    line_count: int
    pgid: int | None = None
    pgid_started: int | None = None


@dataclass
class StepRow:
    index: int
    name: str
    command: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    exit_code: int | None


@dataclass
class JobDetail:
    job: JobRow
    steps: list[StepRow] = field(default_factory=list)
    hosts: list[dict[str, Any]] = field(default_factory=list)
    recap: list[dict[str, Any]] = field(default_factory=list)


class StaleTransition(Exception):
    """The job was not in the expected state: someone else changed it first."""


def _row(row: Any) -> JobRow:
    created = as_utc(row.created_at)
    assert created is not None
    return JobRow(
        id=row.id,
        action=row.action,
        service=row.service,
        lock_key=row.lock_key,
        status=row.status,
        params=json.loads(row.params or "{}"),
        created_by=row.created_by,
        created_at=created,
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        exit_code=row.exit_code,
        deployment_id=row.deployment_id,
        error=row.error,
        line_count=row.line_count,
        pgid=row.pgid,
        pgid_started=row.pgid_started,
    )


class JobStore(OutputStore):
    """Jobs, their steps and results; their output lines through OutputStore."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- creation and locks ------------------------------------------------------
    def create(
        self,
        action: str,
        service: str | None,
        lock_key: str,
        params: dict[str, Any],
        created_by: str | None,
    ) -> JobRow:
        """Insert a queued job unless an active job holds a conflicting lock.

        The caller serialises calls (the engine's submit lock), so check-then-insert
        cannot interleave within this server.
        """
        conflicting = jobs.c.lock_key == LAB_LOCK
        if lock_key == LAB_LOCK:
            conflicting = jobs.c.id.isnot(None)
        else:
            conflicting = or_(conflicting, jobs.c.lock_key == lock_key)
        with self._engine.begin() as conn:
            blocker = conn.execute(
                select(jobs.c.id, jobs.c.action, jobs.c.service)
                .where(and_(jobs.c.status.in_(ACTIVE), conflicting))
                .order_by(jobs.c.id)
                .limit(1)
            ).first()
            if blocker is not None:
                what = (
                    f"{blocker.action} of {blocker.service}" if blocker.service else blocker.action
                )
                raise JobConflict(f"Job {blocker.id} ({what}) is still active", blocker.id)
            job_id = conn.execute(
                insert(jobs)
                .values(
                    action=action,
                    service=service,
                    lock_key=lock_key,
                    status="queued",
                    params=json.dumps(params),
                    created_by=created_by,
                    created_at=utcnow(),
                    line_count=0,
                )
                .returning(jobs.c.id)
            ).scalar_one()
        return self.get(job_id)

    # -- state ---------------------------------------------------------------------
    def transition(
        self, job_id: int, expected: Sequence[JobStatus], new: JobStatus, **values: Any
    ) -> None:
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status.in_(expected))
                .values(status=new, **values)
            ).rowcount
        if changed != 1:
            raise StaleTransition(f"job {job_id} is not {'/'.join(expected)}")

    def set_fields(self, job_id: int, **values: Any) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))

    def active_jobs(self) -> list[JobRow]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(jobs).where(jobs.c.status.in_(ACTIVE)).order_by(jobs.c.id))
            return [_row(r) for r in rows]

    def queued_ids(self) -> list[int]:
        with self._engine.connect() as conn:
            return list(
                conn.scalars(select(jobs.c.id).where(jobs.c.status == "queued").order_by(jobs.c.id))
            )

    # -- reading -------------------------------------------------------------------
    def get(self, job_id: int) -> JobRow:
        with self._engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise NotFound(f"No job {job_id}")
        return _row(row)

    def list_jobs(
        self,
        *,
        limit: int,
        before: int | None,
        status: str | None,
        service: str | None,
    ) -> list[JobRow]:
        query = select(jobs).order_by(jobs.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(jobs.c.id < before)
        if status is not None:
            query = query.where(jobs.c.status == status)
        if service is not None:
            query = query.where(jobs.c.service == service)
        with self._engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def detail(self, job_id: int) -> JobDetail:
        job = self.get(job_id)
        with self._engine.connect() as conn:
            steps = [
                StepRow(
                    index=r.idx,
                    name=r.name,
                    command=r.command,
                    status=r.status,
                    started_at=as_utc(r.started_at),
                    finished_at=as_utc(r.finished_at),
                    exit_code=r.exit_code,
                )
                for r in conn.execute(
                    select(job_steps).where(job_steps.c.job_id == job_id).order_by(job_steps.c.idx)
                )
            ]
            results = conn.execute(
                select(job_host_results)
                .where(job_host_results.c.job_id == job_id)
                .order_by(job_host_results.c.id)
                .limit(5000)
            ).all()
        hosts = [
            {
                "step": r.step_idx,
                "play": r.play,
                "task": r.task,
                "host": r.host,
                "status": r.status,
                "message": r.message,
            }
            for r in results
            if r.kind == "task"
        ]
        recap = [
            {"step": r.step_idx, "host": r.host, **json.loads(r.counts or "{}")}
            for r in results
            if r.kind == "recap"
        ]
        return JobDetail(job=job, steps=steps, hosts=hosts, recap=recap)

    # -- steps and results -------------------------------------------------------------
    def start_step(self, job_id: int, index: int, name: str, command: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(job_steps).values(
                    job_id=job_id,
                    idx=index,
                    name=name,
                    command=command,
                    status="running",
                    started_at=utcnow(),
                )
            )

    def finish_step(self, job_id: int, index: int, status: str, exit_code: int | None) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(job_steps)
                .where(job_steps.c.job_id == job_id, job_steps.c.idx == index)
                .values(status=status, exit_code=exit_code, finished_at=utcnow())
            )

    def add_results(
        self,
        job_id: int,
        step_index: int,
        hosts: Iterable[dict[str, Any]],
        recap: Iterable[dict[str, Any]],
    ) -> None:
        blank = {"play": None, "task": None, "status": None, "message": None, "counts": None}
        base = {"job_id": job_id, "step_idx": step_index}
        rows = [{**base, **blank, "kind": "task", **h} for h in hosts] + [
            {
                **base,
                **blank,
                "kind": "recap",
                "host": r["host"],
                "counts": json.dumps({k: v for k, v in r.items() if k != "host"}),
            }
            for r in recap
        ]
        if rows:
            with self._engine.begin() as conn:
                conn.execute(insert(job_host_results), rows)
