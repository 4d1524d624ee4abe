"""One job's output on its way to the database and the live subscribers.

`write` numbers lines and queues them; a writer task stores everything queued in
one insert, then publishes it. Reading the child's pipe and writing the database
thus overlap, and a bounded queue pushes back on the reader (and so on the child)
when the database cannot keep up: memory stays flat whatever the job prints.

The writer lingers up to `LINGER_SECONDS` after a batch so that a chatty job makes
at most ~40 inserts and live publishes a second (each publish wakes every
follower: 100 viewers of a job printing 10 000 lines/s would otherwise get
thousands of tiny chunks a second), and never lingers once `max_pending` lines
wait. The queue is kept short (`max_pending`) because every line queued ahead of
a line is latency for it: at 100 000 lines/s, 2 048 lines are 20 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from cloudlabmanager.jobs.live import LiveHub
from cloudlabmanager.jobs.store import JobStore

log = logging.getLogger("cloudlabmanager.jobs")
DEPLOYMENT_PREFIX = "DEPLOYMENT_ID="
LINGER_SECONDS = 0.025
MAX_PENDING = 2_048


class OutputSink:
    def __init__(
        self,
        store: JobStore,
        hub: LiveHub,
        job_id: int,
        *,
        next_seq: int = 1,
        max_pending: int = MAX_PENDING,
        linger: float = LINGER_SECONDS,
    ) -> None:
        self._store = store
        self._hub = hub
        self._job_id = job_id
        self._next_seq = next_seq
        self._pending: list[str] = []
        self._pending_first = next_seq
        self._max_pending = max_pending
        self._has_work = asyncio.Event()
        self._has_room = asyncio.Event()
        self._has_room.set()
        self._is_full = asyncio.Event()
        self._linger = linger
        self._closing = False
        self._failure: BaseException | None = None
        self.deployment_id: str | None = None
        self._task = asyncio.create_task(self._writer(), name=f"job-{job_id}-writer")

    @property
    def line_count(self) -> int:
        return self._next_seq - 1

    async def write(self, lines: list[str]) -> None:
        if not lines:
            return
        if self._failure is not None:
            raise RuntimeError("job output could not be stored") from self._failure
        for line in lines:
            if line.startswith(DEPLOYMENT_PREFIX):
                self.deployment_id = line[len(DEPLOYMENT_PREFIX) :].strip()[:128] or None
        self._pending.extend(lines)
        self._next_seq += len(lines)
        self._has_work.set()
        if len(self._pending) >= self._max_pending:
            self._is_full.set()
            self._has_room.clear()
            await self._has_room.wait()

    async def _writer(self) -> None:
        loop = asyncio.get_running_loop()
        last_flush = 0.0
        while True:
            await self._has_work.wait()
            delay = last_flush + self._linger - loop.time()
            if delay > 0 and not self._closing and not self._is_full.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._is_full.wait(), delay)
            self._has_work.clear()
            self._is_full.clear()
            last_flush = loop.time()
            if self._pending:
                batch, first = self._pending, self._pending_first
                self._pending = []
                self._pending_first = first + len(batch)
                try:
                    await asyncio.to_thread(self._store.append_lines, self._job_id, first, batch)
                except Exception as exc:  # disk full, database gone: fail the job, loudly
                    # Not log.exception: the traceback would carry the SQL and a batch of output.
                    reason = getattr(exc, "orig", None) or exc
                    log.error("job %s: storing output failed: %s", self._job_id, reason)
                    self._failure = exc
                    self._has_room.set()
                    return
                self._hub.publish(self._job_id, first, batch)
            self._has_room.set()
            if self._closing and not self._pending:
                return

    async def close(self) -> None:
        """Store everything written so far; raise if storing failed."""
        self._closing = True
        self._has_work.set()
        await self._task
        if self._failure is not None:
            raise RuntimeError(f"job output could not be stored: {self._failure}") from None

    @property
    def failure(self) -> BaseException | None:
        return self._failure
