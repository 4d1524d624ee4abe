"""Live output: a job's recent lines in memory and the subscribers waiting on them.

The writer stores each batch of lines first and then publishes it here, so the
database always holds at least what a subscriber has seen. Memory is bounded:
each live job keeps only its last `window` lines; a subscriber that falls behind
the window reads the gap from the database instead, so a slow client never slows
the job or grows the server.

Lines are kept as the batches the writer published. Followers that keep up ask
for whole batches, so a rendering of a batch (the API's SSE text) is made once
and shared by every follower instead of once per follower.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from dataclasses import dataclass, field


@dataclass(slots=True)
class Batch:
    """Lines with consecutive seqs starting at `first_seq`."""

    first_seq: int
    lines: list[str]
    # A rendering shared by every follower (set by whoever renders it first).
    rendered: bytes | None = None

    @property
    def last_seq(self) -> int:
        return self.first_seq + len(self.lines) - 1

    def pairs(self) -> list[tuple[int, str]]:
        return list(
            zip(range(self.first_seq, self.first_seq + len(self.lines)), self.lines, strict=True)
        )


def batches_of(rows: list[tuple[int, str]]) -> list[Batch]:
    """(seq, text) rows in seq order as batches of consecutive seqs."""
    out: list[Batch] = []
    for seq, text in rows:
        if out and out[-1].last_seq + 1 == seq:
            out[-1].lines.append(text)
        else:
            out.append(Batch(seq, [text]))
    return out


@dataclass
class LiveJob:
    window: int
    batches: list[Batch] = field(default_factory=list)
    firsts: list[int] = field(default_factory=list)  # first_seq of each batch, for bisect
    count: int = 0  # lines held in `batches`
    last_seq: int = 0
    status: str = "queued"
    ended: bool = False
    waiters: set[asyncio.Event] = field(default_factory=set)

    def wake_all(self) -> None:
        for event in self.waiters:
            event.set()

    def trim(self) -> None:
        # In bulk, once twice the window is held: amortised O(1) per line.
        if self.count <= 2 * self.window:
            return
        drop = 0
        while self.count - len(self.batches[drop].lines) >= self.window:
            self.count -= len(self.batches[drop].lines)
            drop += 1
        del self.batches[:drop]
        del self.firsts[:drop]


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
        if live.batches and live.batches[-1].last_seq + 1 != first_seq:
            live.batches.clear()  # not a continuation (never in practice): start afresh
            live.firsts.clear()
            live.count = 0
        live.batches.append(Batch(first_seq, lines))
        live.firsts.append(first_seq)
        live.count += len(lines)
        live.trim()
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
    def recent_after(live: LiveJob, after: int, limit: int) -> list[Batch] | None:
        """Batches after `after` from memory (about `limit` lines: whole batches are
        not cut), or None when the gap starts before the window."""
        batches = live.batches
        if not batches:
            return [] if after >= live.last_seq else None
        if after + 1 < batches[0].first_seq:
            return None
        if after >= batches[-1].last_seq:
            return []
        index = bisect_right(live.firsts, after + 1) - 1
        first = batches[index]
        if first.first_seq != after + 1:  # resuming mid-batch: a private partial batch
            first = Batch(after + 1, first.lines[after + 1 - first.first_seq :])
        out, taken = [first], len(first.lines)
        for next_index in range(index + 1, len(batches)):
            if taken >= limit:
                break
            out.append(batches[next_index])
            taken += len(batches[next_index].lines)
        return out
