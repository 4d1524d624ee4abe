"""Reference figure: the output pipeline alone (LineSplitter + SecretMasker), no I/O.

The ceiling for ingest: what the server's reader can split and mask per second
(bench_output.py, kept runnable on its own, measures it and `run_step` too).
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.bench_output import make_stream, run_once
from bench.common import Figure, median, spread


@dataclass
class OutputSize:
    lines: int
    runs: int


FULL = OutputSize(lines=1_000_000, runs=5)
QUICK = OutputSize(lines=10_000, runs=1)


def run(size: OutputSize) -> list[Figure]:
    stream = make_stream(size.lines, 100)
    rates = []
    for _ in range(size.runs):
        seconds, count = run_once(stream)
        if count != size.lines:
            raise RuntimeError(f"pipeline lost lines: {count} != {size.lines}")
        rates.append(count / seconds)
    return [
        Figure(
            key="0",
            title=f"Reference: split + mask {size.lines:,} lines in memory (a secret every 100th)",
            value=f"{median(rates):,.0f} lines/s",
            spread=spread(rates, "{:,.0f}") + " lines/s",
            goal="— (ceiling for figure 2)",
            baseline="—",
            met=None,
        )
    ]
