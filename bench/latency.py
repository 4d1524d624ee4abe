"""Figures 1 and 4: live latency (one client) and fan-out (many clients on one job).

Latency of a line: the moment an SSE client has it minus the time stamp the child
wrote just before printing it. Baseline: the same child read by a plain pipe
reader (64 KiB reads in an asyncio loop) — what any tool showing the output pays.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from bench.common import Figure, median, percentile, spread
from bench.lab import LINE_RE, BenchLab, EmitParams
from bench.server import Server
from bench.sse import SseFollower, weighted_latencies


@dataclass
class LatencySize:
    paced_lines: int  # at 500 lines/s
    max_lines: int  # as fast as possible
    fan_clients: int
    fan_lines: int  # at 10 000 lines/s
    runs: int


FULL = LatencySize(paced_lines=3_000, max_lines=200_000, fan_clients=100, fan_lines=50_000, runs=5)
QUICK = LatencySize(paced_lines=200, max_lines=5_000, fan_clients=3, fan_lines=2_000, runs=1)


async def pipe_latencies(lab: BenchLab, params: EmitParams) -> list[float]:
    """The baseline: the emitter read straight from its pipe, no server."""
    lab.configure(replace(params, go=""))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(lab.root / "services" / "emit" / "emit.py"),
        str(lab.params_path),
        stdout=asyncio.subprocess.PIPE,
        cwd=lab.root,
    )
    assert proc.stdout is not None
    out: list[float] = []
    pending = b""
    while chunk := await proc.stdout.read(64 * 1024):
        now_us = time.time_ns() // 1000
        pending += chunk
        cut = pending.rfind(b"\n")
        block, pending = pending[: cut + 1], pending[cut + 1 :]
        out.extend((now_us - int(t)) / 1e6 for _, t in LINE_RE.findall(block))
    await proc.wait()
    if len(out) != params.lines:
        raise RuntimeError(f"pipe reader got {len(out)} of {params.lines} lines")
    return out


async def server_latencies(
    server: Server, lab: BenchLab, params: EmitParams, clients: int
) -> tuple[list[float], list[str]]:
    """Deploys the emitter, follows it with `clients` SSE clients; per-line latencies of all."""
    lab.configure(params)
    exact = clients == 1
    limits = {"max_connections": clients + 5, "max_keepalive_connections": clients + 5}
    async with server.async_client(timeout=120, limits=httpx.Limits(**limits)) as client:
        answer = await client.post("/api/services/emit/deploy", json={})
        answer.raise_for_status()
        job_id = int(answer.json()["job_id"])
        followers = [SseFollower(client, job_id, exact=exact) for _ in range(clients)]
        tasks = [asyncio.create_task(f.run()) for f in followers]
        await asyncio.wait_for(asyncio.gather(*(f.connected.wait() for f in followers)), 60)
        lab.go()
        results = await asyncio.wait_for(asyncio.gather(*tasks), 600)
    problems: list[str] = []
    latencies: list[float] = []
    for index, result in enumerate(results):
        if result.lines != params.lines or not result.done or result.errors:
            problems.append(
                f"PROBLEM client {index}: {result.lines}/{params.lines} lines, done={result.done}, "
                f"errors={result.errors[:3]}"
            )
        if exact:
            latencies.extend(us / 1e6 for us in result.latencies_us)
        else:
            latencies.extend(weighted_latencies(result.chunk_latencies))
    return latencies, problems


FAN_NOTE = (
    "Many-client latency is an upper bound: each received chunk's lines get the latency of "
    "its oldest line (the clients share one Python process with the benchmark)."
)


def _p99s(samples: list[list[float]]) -> list[float]:
    return [percentile(s, 99) for s in samples]


async def _measure_rate(
    server: Server, lab: BenchLab, params: EmitParams, clients: int, runs: int
) -> tuple[list[float], list[float], list[str]]:
    ours, base, problems = [], [], []
    for _ in range(runs):
        latencies, issues = await server_latencies(server, lab, params, clients)
        problems += issues
        ours.append(percentile(latencies, 99))
        base.append(percentile(await pipe_latencies(lab, params), 99))
    return ours, base, problems


def run(server: Server, lab: BenchLab, size: LatencySize) -> list[Figure]:
    figures = []
    cases = [
        (
            "1a",
            "Live latency p99 at 500 lines/s",
            EmitParams(size.paced_lines, 500, str(lab.go_path)),
        ),
        (
            "1b",
            "Live latency p99 at the job's maximum rate",
            EmitParams(size.max_lines, 0, str(lab.go_path)),
        ),
    ]
    for key, title, params in cases:
        ours, base, problems = asyncio.run(_measure_rate(server, lab, params, 1, size.runs))
        value = median(ours)
        figures.append(
            Figure(
                key=key,
                title=f"{title} ({params.lines:,} lines, 1 SSE client, SQLite)",
                value=f"{value * 1000:.1f} ms",
                spread=spread([v * 1000 for v in ours], "{:.1f}") + " ms",
                goal="p99 ≤ 100 ms",
                baseline=f"plain pipe reader p99 {median(base) * 1000:.1f} ms",
                met=value <= 0.100 and not problems,
                notes=problems[:5],
            )
        )
    fan = EmitParams(size.fan_lines, 10_000, str(lab.go_path))
    many, one, problems = [], [], []
    for _ in range(max(1, size.runs - 2)):
        latencies, issues = asyncio.run(server_latencies(server, lab, fan, size.fan_clients))
        problems += issues
        many.append(percentile(latencies, 99))
        latencies, issues = asyncio.run(server_latencies(server, lab, fan, 1))
        problems += issues
        one.append(percentile(latencies, 99))
    value = median(many)
    figures.append(
        Figure(
            key="4",
            title=(
                f"Fan-out: {size.fan_clients} SSE clients on one job printing 10 000 lines/s "
                f"({fan.lines:,} lines), p99 latency, every client gets every line"
            ),
            value=f"{value * 1000:.1f} ms" + ("" if problems else "; all lines, all clients"),
            spread=spread([v * 1000 for v in many], "{:.1f}") + " ms",
            goal="p99 ≤ 250 ms, no line lost",
            baseline=f"1 client on the same job: p99 {median(one) * 1000:.1f} ms",
            met=value <= 0.250 and not problems,
            notes=[*problems[:5], FAN_NOTE],
        )
    )
    return figures


def standalone(work: Path, size: LatencySize) -> list[Figure]:
    """Figures 1 and 4 against a fresh server on SQLite."""
    from bench.common import sqlite_url
    from bench.server import script_lab_env

    lab = BenchLab(work / "lab")
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    server = Server(
        script_lab_env(data, sqlite_url(data / "bench.db"), lab.root), work / "server.log"
    )
    with server:
        return run(server, lab, size)
