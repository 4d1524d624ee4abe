"""What every benchmark shares: statistics, the figure record, databases and RSS."""

from __future__ import annotations

import os
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

POSTGRES_ENV = "CLM_BENCH_POSTGRES_URL"


@dataclass
class Figure:
    """One row of BENCHMARKS.md: a measured value next to its goal and baseline."""

    key: str
    title: str
    value: str
    spread: str
    goal: str
    baseline: str
    met: bool | None  # None: no goal, or not measurable here
    notes: list[str] = field(default_factory=list)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float], fmt: str = "{:.1f}") -> str:
    """The lowest and highest of the runs, as text."""
    if not values:
        return "—"
    return f"{fmt.format(min(values))}–{fmt.format(max(values))} ({len(values)} runs)"


def rss_kib(pid: int) -> int:
    """Resident set size of a process (VmRSS), in KiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _swap_database(url: str, name: str) -> str:
    base, _, _query = url.partition("?")
    head, _, _old = base.rpartition("/")
    return f"{head}/{name}"


def create_postgres_database(url: str, prefix: str = "clm_bench") -> str:
    """A fresh, empty database next to `url`'s; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _swap_database(url, name)


def drop_postgres_database(url: str, db_url: str) -> None:
    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
