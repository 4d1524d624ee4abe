"""Micro-benchmark: LineSplitter + SecretMasker on 1 000 000 lines (prints lines/s).

Run: .venv/bin/python bench/bench_output.py [--lines N] [--runs R]
First the pipeline alone (no subprocess, no database, no network), then the same
through `run_step` with a real child printing as fast as it can (no storage).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cloudlabmanager.jobs.output import LineSplitter, SecretMasker
from cloudlabmanager.jobs.runner import StepCommand, run_step

CHUNK = 64 * 1024


SECRETS = ["v@ult$pw*(", "tok-3f9a8b7c6d5e4f3a2b1c", "https://x:p%40ss@h"]
ROW = "TASK [deploy] ok: [host-{:07d}] => changed=false \x1b[0;32mok\x1b[0m elapsed=0.004s\n"
HIT = "TASK [deploy] ok: [host-{:07d}] => token=tok-3f9a8b7c6d5e4f3a2b1c elapsed=0.004s\n"


def make_stream(lines: int, hit_every: int) -> bytes:
    rows = ((HIT if hit_every and i % hit_every == 0 else ROW).format(i) for i in range(lines))
    return "".join(rows).encode()


def run_once(stream: bytes) -> tuple[float, int]:
    masker = SecretMasker(SECRETS)
    splitter = LineSplitter(64 * 1024, masker=masker)
    count = 0
    start = time.perf_counter()
    for offset in range(0, len(stream), CHUNK):
        lines = splitter.feed(stream[offset : offset + CHUNK])
        lines = masker.mask_lines(lines)
        count += len(lines)
    count += len(masker.mask_lines(splitter.flush()))
    return time.perf_counter() - start, count


CHILD = "import sys\nrow = {row!r}\nsys.stdout.writelines(row.format(i) for i in range({n}))\n"


async def run_step_once(lines: int) -> tuple[float, int]:
    count = 0

    async def on_lines(batch: list[str]) -> None:
        nonlocal count
        count += len(batch)

    async def on_started(pid: int) -> None:
        pass

    with tempfile.TemporaryDirectory() as cwd:
        command = StepCommand(
            "bench",
            [sys.executable, "-c", CHILD.format(row=ROW, n=lines)],
            Path(cwd),
            {"PATH": "/usr/bin:/bin"},
        )
        start = time.perf_counter()
        outcome = await run_step(
            command,
            on_lines=on_lines,
            on_started=on_started,
            masker=SecretMasker(SECRETS),
            max_line_bytes=64 * 1024,
            cancel=asyncio.Event(),
            grace=5.0,
            deadline=None,
        )
        elapsed = time.perf_counter() - start
    if outcome.exit_code != 0:
        raise SystemExit(f"child failed: {outcome}")
    return elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for label, hit_every in (("no secret in output", 0), ("a secret every 100th line", 100)):
        stream = make_stream(args.lines, hit_every)
        rates = []
        for _ in range(args.runs):
            elapsed, count = run_once(stream)
            if count != args.lines:
                raise SystemExit(f"lost lines: {count} != {args.lines}")
            rates.append(count / elapsed)
        print(
            f"LineSplitter+SecretMasker, {label}: {args.lines} lines, "
            f"{len(stream) / 1e6:.0f} MB, median {statistics.median(rates):,.0f} lines/s "
            f"(min {min(rates):,.0f}, max {max(rates):,.0f}, {args.runs} runs)"
        )
    rates = []
    for _ in range(args.runs):
        elapsed, count = asyncio.run(run_step_once(args.lines))
        if count != args.lines:
            raise SystemExit(f"lost lines: {count} != {args.lines}")
        rates.append(count / elapsed)
    print(
        f"run_step with a real child (spawn to reaped, child's own cost included): "
        f"median {statistics.median(rates):,.0f} lines/s "
        f"(min {min(rates):,.0f}, max {max(rates):,.0f}, {args.runs} runs)"
    )


if __name__ == "__main__":
    main()
