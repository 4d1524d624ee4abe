"""Following a job's output: what a live viewer receives, from memory or the database.

Yields batches of lines in sequence order starting after a cursor, status changes,
heartbeats while idle, and a final status. A viewer that falls behind the live
window continues from the database, so it never misses or repeats a line.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from cloudlabmanager.jobs import states
from cloudlabmanager.jobs.live import Batch, LiveHub, batches_of
from cloudlabmanager.jobs.store import JobStore

PAGE = 5_000
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Lines:
    """Batches of consecutive lines; a batch straight from the live window is shared
    by every follower (render it once: `Batch.rendered`)."""

    batches: list[Batch]

    @property
    def lines(self) -> list[tuple[int, str]]:
        return [pair for batch in self.batches for pair in batch.pairs()]


@dataclass(frozen=True)
class Status:
    status: str


@dataclass(frozen=True)
class Heartbeat:
    pass


@dataclass(frozen=True)
class Done:
    status: str


FollowEvent = Lines | Status | Heartbeat | Done


async def follow_job(
    store: JobStore, hub: LiveHub, job_id: int, after: int, heartbeat: float = 15.0
) -> AsyncIterator[FollowEvent]:
    job = await asyncio.to_thread(store.get, job_id)
    live, wake = hub.subscribe(job_id)
    cursor = max(0, after)
    status = live.status if live is not None else job.status
    yield Status(status)
    try:
        while True:
            wake.clear()
            batch = hub.recent_after(live, cursor, PAGE) if live is not None else None
            if batch is None:
                rows = await asyncio.to_thread(store.lines_after, job_id, cursor, PAGE)
                batch = batches_of(rows)
            if batch:
                cursor = batch[-1].last_seq
                yield Lines(batch)
                continue
            current = live.status if live is not None else None
            if current is not None and current != status:
                status = current
                yield Status(status)
            if live is not None and live.ended:
                rest = await asyncio.to_thread(store.lines_after, job_id, cursor, PAGE)
                if rest:  # lines stored after the last publish (notes on recovery)
                    cursor = rest[-1][0]
                    yield Lines(batches_of(rest))
                    continue
                yield Done(live.status)
                return
            if live is None:
                row = await asyncio.to_thread(store.get, job_id)
                if row.status in states.ENDED:
                    yield Done(row.status)
                    return
                live, wake = hub.subscribe(job_id)  # it may have gone live meanwhile
                if live is None:
                    await asyncio.sleep(POLL_SECONDS)
                continue
            try:
                await asyncio.wait_for(wake.wait(), timeout=heartbeat)
            except TimeoutError:
                yield Heartbeat()
    finally:
        hub.unsubscribe(live, wake)
