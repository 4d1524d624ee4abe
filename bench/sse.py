"""An SSE client that checks every line arrived once, in order, and measures latency.

`exact` mode parses every event and records each line's latency (receive time
minus the time stamp the child wrote). The light mode, for many clients in one
process, checks ids per received chunk (first id follows the last one, count
matches the id range) and gives every line of a chunk the latency of the
chunk's first (oldest) line: an upper bound that costs O(1) Python per chunk.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

import httpx

from bench.lab import LINE_RE

EVENT_RE = re.compile(rb"id: (\d+)\ndata: L(\d+) t=(\d+)")
ID_RE = re.compile(rb"id: (\d+)\n")


@dataclass
class StreamResult:
    last_id: int = 0
    lines: int = 0  # lines of the emitter received
    events: int = 0  # every id'd event
    errors: list[str] = field(default_factory=list)
    latencies_us: list[int] = field(default_factory=list)  # exact mode: one per line
    chunk_latencies: list[tuple[int, int]] = field(default_factory=list)  # (µs, lines)
    done: bool = False
    first_emitter_id: int = 0  # seq of L1


class SseFollower:
    def __init__(self, client: httpx.AsyncClient, job_id: int, *, exact: bool) -> None:
        self.client = client
        self.job_id = job_id
        self.exact = exact
        self.result = StreamResult()
        self.connected = asyncio.Event()
        self._next_n = 1

    async def run(self) -> StreamResult:
        try:
            async with self.client.stream("GET", f"/api/jobs/{self.job_id}/stream") as answer:
                answer.raise_for_status()
                pending = b""
                async for chunk in answer.aiter_raw():
                    now_us = time.time_ns() // 1000
                    self.connected.set()
                    pending += chunk
                    cut = pending.rfind(b"\n\n")
                    if cut < 0:
                        continue
                    complete, pending = pending[: cut + 2], pending[cut + 2 :]
                    self._take(complete, now_us)
                    if b"event: done" in complete:
                        self.result.done = True
                        break
        except Exception as exc:  # reported, never hidden: a lost stream is a failure
            self.result.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.connected.set()
        return self.result

    def _take(self, block: bytes, now_us: int) -> None:
        result = self.result
        if self.exact:
            for seq_b, n_b, t_b in EVENT_RE.findall(block):
                seq, n = int(seq_b), int(n_b)
                self._check(seq, n)
                result.latencies_us.append(now_us - int(t_b))
            ids = ID_RE.findall(block)
            if ids:
                self._check_ids(int(ids[0]), int(ids[-1]), len(ids))
            return
        count = block.count(b"id: ")
        if not count:
            return
        first = ID_RE.search(block)
        assert first is not None
        last = int(block[block.rfind(b"id: ") + 4 : block.find(b"\n", block.rfind(b"id: "))])
        self._check_ids(int(first.group(1)), last, count)
        stamp = LINE_RE.search(block)
        if stamp is not None:
            lines = block.count(b"data: L")
            result.lines += lines
            result.chunk_latencies.append((now_us - int(stamp.group(2)), lines))

    def _check(self, seq: int, n: int) -> None:
        result = self.result
        if n != self._next_n:
            result.errors.append(f"line L{n} arrived, expected L{self._next_n}")
        if n == 1:
            result.first_emitter_id = seq
        self._next_n = n + 1
        result.lines += 1

    def _check_ids(self, first: int, last: int, count: int) -> None:
        result = self.result
        if result.last_id and first != result.last_id + 1:
            result.errors.append(f"id {first} after {result.last_id}")
        if last - first + 1 != count:
            result.errors.append(f"ids {first}..{last} but {count} events")
        result.last_id = last
        result.events += count


def weighted_latencies(chunks: list[tuple[int, int]]) -> list[float]:
    """Expands (latency, lines) pairs into a per-line list in seconds."""
    out: list[float] = []
    for latency_us, lines in chunks:
        out.extend([latency_us / 1e6] * lines)
    return out
