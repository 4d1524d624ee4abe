"""The job engine: creates jobs, runs them with bounded concurrency, cancels, recovers.

Owned by the app's lifespan. Jobs are rows from the moment they exist; the engine
only ever claims a queued job with a conditional update, and every status change
goes through `JobStore.transition`. Nothing of a job lives only in memory: a
restart finds every job that was running and marks it `interrupted`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from cloudlabmanager.context import AppContext
from cloudlabmanager.errors import Conflict
from cloudlabmanager.jobs import states
from cloudlabmanager.jobs.execution import execute_job
from cloudlabmanager.jobs.flows import build_flow, lock_key_for
from cloudlabmanager.jobs.live import LiveHub
from cloudlabmanager.jobs.output import SecretMasker
from cloudlabmanager.jobs.process_groups import is_same_group, kill_process_group
from cloudlabmanager.jobs.store import JobRow, JobStore, StaleTransition
from cloudlabmanager.storage.clock import utcnow

log = logging.getLogger("cloudlabmanager.jobs")


@dataclass
class RunningJob:
    job_id: int
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    # What the job ends as when cancelled: "cancelled" by a user, "interrupted" on shutdown.
    cancel_status: str = states.CANCELLED
    task: asyncio.Task[None] | None = None


class JobEngine:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.store = JobStore(ctx.engine)
        self.hub = LiveHub()
        self._submit_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(ctx.settings.max_jobs)
        self._wakeup = asyncio.Event()
        self._running: dict[int, RunningJob] = {}
        self._dispatcher: asyncio.Task[None] | None = None
        self._stopping = False

    # -- lifecycle ----------------------------------------------------------------
    async def recover(self) -> list[int]:
        """Mark jobs an earlier process left queued or running as interrupted."""
        left = await asyncio.to_thread(self.store.active_jobs)
        grace = self.ctx.settings.cancel_grace
        for job in left:
            if job.pgid and is_same_group(job.pgid, job.pgid_started):
                await asyncio.to_thread(kill_process_group, job.pgid, min(grace, 5.0))
            reason = (
                "the server stopped while this job ran; its processes were ended"
                if job.status == states.RUNNING
                else "the server stopped before this job started"
            )
            await self._append_note(job.id, f"*** Job interrupted: {reason}.")
            try:
                await asyncio.to_thread(
                    self.store.transition,
                    job.id,
                    states.ACTIVE,
                    states.INTERRUPTED,
                    finished_at=utcnow(),
                    pgid=None,
                    pgid_started=None,
                    error=reason,
                )
            except StaleTransition:
                continue
        return [job.id for job in left]

    def start(self) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch(), name="job-dispatcher")

    async def stop(self) -> None:
        """Shutdown: end running jobs as interrupted, flush their output, stop the dispatcher."""
        self._stopping = True
        for running in list(self._running.values()):
            running.cancel_status = states.INTERRUPTED
            running.cancel.set()
        tasks = [r.task for r in self._running.values() if r.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        # Jobs still queued will be found and marked interrupted on the next start.

    # -- requests ------------------------------------------------------------------
    async def submit(
        self,
        action: str,
        service: str | None,
        params: dict[str, Any],
        created_by: str | None,
    ) -> JobRow:
        """Create a queued job, or raise JobConflict naming the job in the way."""
        if self._stopping:
            raise Conflict("The server is shutting down")
        # Refuse what cannot run (unknown service, broken instance.yaml) before a row exists.
        await asyncio.to_thread(build_flow, self.ctx, action, service, params)
        lock_key = await asyncio.to_thread(lock_key_for, self.ctx, action, service, params)
        async with self._submit_lock:
            job = await asyncio.to_thread(
                self.store.create, action, service, lock_key, params, created_by
            )
        self.hub.open(job.id, job.status)
        self._wakeup.set()
        return job

    async def cancel(self, job_id: int) -> str:
        job = await asyncio.to_thread(self.store.get, job_id)
        if job.status in states.ENDED:
            raise Conflict(f"Job {job_id} has already ended ({job.status})")
        running = self._running.get(job_id)
        if running is not None:
            running.cancel.set()
            return "cancelling"
        try:
            await asyncio.to_thread(
                self.store.transition,
                job_id,
                (states.QUEUED,),
                states.CANCELLED,
                finished_at=utcnow(),
            )
        except StaleTransition:
            # It was claimed meanwhile: cancel the run that just started.
            running = self._running.get(job_id)
            if running is None:
                raise Conflict(f"Job {job_id} has already ended") from None
            running.cancel.set()
            return "cancelling"
        await self._append_note(job_id, "*** Job cancelled before it started.")
        self.hub.set_status(job_id, states.CANCELLED, ended=True)
        self.hub.close(job_id)
        return states.CANCELLED

    # -- running ---------------------------------------------------------------------
    async def _dispatch(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            for job_id in await asyncio.to_thread(self.store.queued_ids):
                if self._stopping:
                    return
                if job_id in self._running:
                    continue
                await self._slots.acquire()
                try:
                    await asyncio.to_thread(
                        self.store.transition,
                        job_id,
                        (states.QUEUED,),
                        states.RUNNING,
                        started_at=utcnow(),
                        runner_boot_id=self.ctx.boot_id,
                    )
                except StaleTransition:  # cancelled while queued
                    self._slots.release()
                    continue
                running = RunningJob(job_id)
                self._running[job_id] = running
                running.task = asyncio.create_task(self._run(running), name=f"job-{job_id}")

    async def _run(self, running: RunningJob) -> None:
        try:
            await execute_job(self, running)
        except Exception:
            log.exception("job %s crashed", running.job_id)
        finally:
            self._running.pop(running.job_id, None)
            self.hub.close(running.job_id)
            self._slots.release()
            self._wakeup.set()

    async def _append_note(self, job_id: int, text: str) -> None:
        seq = await asyncio.to_thread(self.store.last_seq, job_id)
        await asyncio.to_thread(self.store.append_lines, job_id, seq + 1, [text])
        self.hub.publish(job_id, seq + 1, [text])

    def masker(self) -> SecretMasker:
        from cloudlabmanager.jobs.environment import known_secrets

        return SecretMasker(known_secrets(self.ctx))

    @property
    def stopping(self) -> bool:
        """True once shutdown began: work in flight gives up waiting for the database."""
        return self._stopping

    def is_running(self, job_id: int) -> bool:
        return job_id in self._running
