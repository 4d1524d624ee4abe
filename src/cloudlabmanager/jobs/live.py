"""Live output: a job's recent lines in memory and the subscribers waiting on them.

The writer stores each batch of lines first and then publishes it here, so the
database always holds at least what a subscriber has seen. Memory is bounded:
each live job keeps only its last `window` lines; a subscriber that falls behind
the window reads the gap from the database instead, so a slow client never slows
the job or grows the server.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class LiveJob:
    window: int
    # seqs of `lines` are consecutive, so a seq finds its index by subtraction.
    lines: list[tuple[int, str]] = field(default_factory=list)
    last_seq: int = 0
    status: str = "queued"
    ended: bool = False
    waiters: set[asyncio.Event] = field(default_factory=set)

    def wake_all(self) -> None:
        for event in self.waiters:
            event.set()


class LiveHub:
    """Per-job recent lines and wake-ups; owned by the job engine."""

    def __init__(self, window: int = 20_000) -> None:
        self._jobs: dict[int, LiveJob] = {}
        self._window = window

    def open(self, job_id: int, status: str, last_seq: int = 0) -> LiveJob:
        live = self._jobs.get(job_id)
        if live is None:
            live = LiveJob(window=self._window, status=status, last_seq=last_seq)
            self._jobs[job_id] = live
        return live

    def get(self, job_id: int) -> LiveJob | None:
        return self._jobs.get(job_id)

    def publish(self, job_id: int, first_seq: int, lines: list[str]) -> None:
        live = self._jobs.get(job_id)
        if live is None or not lines:
            return
        buffer = live.lines
        buffer.extend(zip(range(first_seq, first_seq + len(lines)), lines, strict=True))
        if len(buffer) > 2 * live.window:  # trim in bulk: amortised O(1) per line
            del buffer[: len(buffer) - live.window]
        live.last_seq = first_seq + len(lines) - 1
        live.wake_all()

    def set_status(self, job_id: int, status: str, *, ended: bool = False) -> None:
        live = self._jobs.get(job_id)
        if live is None:
            return
        live.status = status
        live.ended = ended
        live.wake_all()

    def close(self, job_id: int) -> None:
        """Forget an ended job once its subscribers have been woken for the last time."""
        live = self._jobs.pop(job_id, None)
        if live is not None:
            live.ended = True
            live.wake_all()

    def subscribe(self, job_id: int) -> tuple[LiveJob | None, asyncio.Event]:
        event = asyncio.Event()
        live = self._jobs.get(job_id)
        if live is not None:
            live.waiters.add(event)
        return live, event

    def unsubscribe(self, live: LiveJob | None, event: asyncio.Event) -> None:
        if live is not None:
            live.waiters.discard(event)

    @staticmethod
    def recent_after(live: LiveJob, after: int, limit: int) -> list[tuple[int, str]] | None:
        """Lines after `after` from memory, or None when the gap starts before the window."""
        buffer = live.lines
        if not buffer:
            return [] if after >= live.last_seq else None
        first = buffer[0][0]
        if after + 1 < first:
            return None
        start = after + 1 - first
        if start >= len(buffer):
            return []
        return buffer[start : start + limit]
