"""Figures 2 and 3: a job printing N lines as fast as it can; throughput and server RSS.

Throughput: N / (deploy request → the job has ended with its final line stored).
Baseline: a bare DB-API `executemany` of the same N rows into a fresh database
of the same kind with the same schema, in one transaction (the storage limit).
Memory: the server's VmRSS sampled every 50 ms during the job and 5 s after it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from bench.common import (
    Figure,
    create_postgres_database,
    drop_postgres_database,
    median,
    postgres_url,
    rss_kib,
    spread,
    sqlite_url,
)
from bench.lab import PAD, BenchLab, EmitParams
from bench.server import Server, deploy, script_lab_env, wait_ended
from cloudlabmanager.storage.db import make_engine, migrate


@dataclass
class IngestRun:
    seconds: float
    rss_start_kib: int
    rss_peak_kib: int
    rss_after_kib: int
    problems: list[str]


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak = pid, every, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(self.every)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def verify_lines(database_url: str, job_id: int, lines: int) -> list[str]:
    """Every emitted line stored exactly once, in order (reads the database directly)."""
    engine = make_engine(database_url)
    problems: list[str] = []
    expected = 1
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT seq, text FROM job_lines WHERE job_id = :j ORDER BY seq"), {"j": job_id}
        )
        previous = 0
        for seq, line in rows:
            if seq != previous + 1:
                problems.append(f"seq {seq} after {previous}")
            previous = seq
            if line.startswith("L"):
                if line != f"L{expected}" + line[len(f"L{expected}") :] or not line.endswith(PAD):
                    problems.append(f"line {seq}: {line[:40]!r}, expected L{expected}")
                    expected = int(line[1 : line.index(" ")])
                expected += 1
    engine.dispose()
    if expected - 1 != lines:
        problems.append(f"stored {expected - 1} of {lines} emitted lines")
    return problems[:5]


def one_job(server: Server, lab: BenchLab, database_url: str, lines: int) -> IngestRun:
    lab.configure(EmitParams(lines, 0))
    with server.client(timeout=120) as client:
        time.sleep(1.0)
        start_rss = server.rss_kib()
        sampler = RssSampler(server.pid)
        sampler.start()
        began = time.perf_counter()
        job_id = deploy(client, "emit")
        job = wait_ended(client, job_id, timeout=900, poll=0.05)
        seconds = time.perf_counter() - began
        peak = sampler.stop()
        problems = [] if job["status"] == "completed" else [f"job {job['status']}"]
        if job["line_count"] != lines + 2:
            problems.append(f"line_count {job['line_count']} != {lines + 2}")
    time.sleep(5.0)
    after = server.rss_kib()
    problems += verify_lines(database_url, job_id, lines)
    return IngestRun(seconds, start_rss, peak, after, problems)


def bulk_insert_seconds(database_url: str, lines: int, *, copy: bool = False) -> float:
    """The storage limit: one executemany (or, on PostgreSQL, one COPY) of the same rows,
    fresh schema, one transaction."""
    engine = make_engine(database_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO jobs (id, action, lock_key, status, params, created_at, line_count)"
                " VALUES (1, 'deploy', 'x', 'completed', '{}', CURRENT_TIMESTAMP, 0)"
            )
        )
    t = time.time_ns() // 1000
    rows = [(1, i, f"L{i} t={t}{PAD}") for i in range(1, lines + 1)]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        began = time.perf_counter()
        if database_url.startswith("sqlite"):
            cursor.execute("BEGIN")
            cursor.executemany("INSERT INTO job_lines (job_id, seq, text) VALUES (?, ?, ?)", rows)
        elif copy:
            with cursor.copy("COPY job_lines (job_id, seq, text) FROM STDIN") as stream:
                for row in rows:
                    stream.write_row(row)
        else:
            cursor.executemany(
                "INSERT INTO job_lines (job_id, seq, text) VALUES (%s, %s, %s)", rows
            )
        raw.commit()
        seconds = time.perf_counter() - began
    finally:
        raw.close()
        engine.dispose()
    return seconds


@dataclass
class IngestSize:
    lines: int
    runs: int


FULL = IngestSize(lines=1_000_000, runs=3)
QUICK = IngestSize(lines=20_000, runs=1)


def _databases(work: Path) -> list[tuple[str, str, str | None]]:
    """(label, url for the server, admin url to drop it) per database kind."""
    found: list[tuple[str, str, str | None]] = [
        ("SQLite", sqlite_url(work / "sqlite-data" / "bench.db"), None)
    ]
    admin = postgres_url()
    if admin is not None:
        found.append(("PostgreSQL", create_postgres_database(admin), admin))
    return found


def run(work: Path, size: IngestSize) -> list[Figure]:
    figures: list[Figure] = []
    memory_runs: list[IngestRun] = []
    for label, url, admin in _databases(work):
        data = work / f"{label.lower()}-data"
        data.mkdir(parents=True, exist_ok=True)
        lab = BenchLab(work / "lab")
        server = Server(script_lab_env(data, url, lab.root), work / f"{label}.log")
        try:
            with server:
                runs = [one_job(server, lab, url, size.lines) for _ in range(size.runs)]
        finally:
            if admin is not None:
                drop_postgres_database(admin, url)
        if label == "SQLite":
            memory_runs = runs
        bulk, copies = [], []
        for index in range(size.runs):
            if admin is None:
                path = work / f"bulk-{index}.db"
                path.unlink(missing_ok=True)
                bulk.append(bulk_insert_seconds(sqlite_url(path), size.lines))
                path.unlink()
            else:
                bulk_url = create_postgres_database(admin)
                copy_url = create_postgres_database(admin)
                try:
                    bulk.append(bulk_insert_seconds(bulk_url, size.lines))
                    copies.append(bulk_insert_seconds(copy_url, size.lines, copy=True))
                finally:
                    drop_postgres_database(admin, bulk_url)
                    drop_postgres_database(admin, copy_url)
        rates = [size.lines / r.seconds for r in runs]
        bulk_rate = median([size.lines / s for s in bulk])
        problems = [f"PROBLEM {p}" for r in runs for p in r.problems]
        figures.append(
            Figure(
                key="2" if label == "SQLite" else "2-pg",
                title=f"Ingest, {size.lines:,} lines as fast as possible, {label}",
                value=f"{median(rates):,.0f} lines/s"
                + ("; no line lost" if not problems else "; LINES LOST"),
                spread=spread(rates, "{:,.0f}") + " lines/s",
                goal="≥ 100 000 lines/s, no line lost",
                baseline=(
                    f"bare executemany {bulk_rate:,.0f} lines/s; "
                    f"ours = {median(rates) / bulk_rate:.0%} of it"
                    + (
                        f"; bare COPY {median([size.lines / s for s in copies]):,.0f} lines/s"
                        if copies
                        else ""
                    )
                ),
                met=median(rates) >= 100_000 and not problems,
                notes=problems,
            )
        )
    growth = [(r.rss_peak_kib - r.rss_start_kib) / 1024 for r in memory_runs]
    after = [(r.rss_after_kib - r.rss_start_kib) / 1024 for r in memory_runs]
    first = memory_runs[0]
    figures.append(
        Figure(
            key="3",
            title=f"Server RSS growth during the {size.lines:,}-line job (SQLite), and 5 s after",
            value=f"+{median(growth):.0f} MB peak, {median(after):+.0f} MB after",
            spread=spread(growth, "{:.0f}") + " MB peak",
            goal="growth ≤ 150 MB, back near the start afterwards",
            baseline=(
                f"RSS at start {first.rss_start_kib / 1024:.0f} MB (idle, signed in); "
                f"after each run {', '.join(f'{a:+.0f}' for a in after)} MB"
            ),
            met=median(growth) <= 150 and median(after) <= 30,
        )
    )
    return figures
