"""Figures 5 and 8: history at scale and start-up on a big database.

The database is filled with bulk SQL (executemany on SQLite, COPY on PostgreSQL):
`jobs` jobs, one of them big (`big_lines`), the rest sharing the other lines. Then
the server starts on it (figure 8: spawn → first /api/auth/status answer) and each
of three requests is timed sequentially over several rounds (figure 5): the job
list page, a job's `?tail=100` and `/output?after=<deep>&limit=1000` in the big
job. Baseline: the same reads as bare indexed SELECTs through the DB-API.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
from sqlalchemy import insert

from bench.common import (
    Figure,
    create_postgres_database,
    drop_postgres_database,
    median,
    percentile,
    postgres_url,
    spread,
    sqlite_url,
)
from bench.lab import PAD, BenchLab
from bench.server import Server, script_lab_env
from cloudlabmanager.storage.db import make_engine, migrate
from cloudlabmanager.storage.tables import job_steps, jobs


@dataclass
class HistorySize:
    jobs: int
    lines: int
    big_lines: int
    rounds: int
    requests: int  # per round and per endpoint
    starts: int


FULL = HistorySize(
    jobs=10_000, lines=10_000_000, big_lines=1_000_000, rounds=5, requests=100, starts=5
)
QUICK = HistorySize(jobs=100, lines=20_000, big_lines=5_000, rounds=1, requests=10, starts=1)
COPY_LINES = "COPY job_lines (job_id, seq, text) FROM STDIN"
INSERT_LINES = "INSERT INTO job_lines (job_id, seq, text) VALUES (?, ?, ?)"


def _job_rows(count: int, lines_of: Callable[[int], int]) -> list[dict[str, Any]]:
    began = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for job_id in range(1, count + 1):
        created = began + timedelta(minutes=job_id)
        rows.append(
            {
                "id": job_id,
                "action": "deploy",
                "service": f"svc-{job_id % 25}",
                "lock_key": f"svc-{job_id % 25}",
                "status": "failed" if job_id % 17 == 0 else "completed",
                "params": "{}",
                "created_by": "bench",
                "created_at": created,
                "started_at": created,
                "finished_at": created + timedelta(seconds=40),
                "exit_code": 2 if job_id % 17 == 0 else 0,
                "line_count": lines_of(job_id),
            }
        )
    return rows


def fill(database_url: str, size: HistorySize) -> int:
    """Creates the schema and the data; returns the id of the big job (the newest)."""
    big = size.jobs
    small = (size.lines - size.big_lines) // max(1, size.jobs - 1)

    def lines_of(job_id: int) -> int:
        return size.big_lines if job_id == big else small

    engine = make_engine(database_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(jobs), _job_rows(size.jobs, lines_of))
        steps = [
            {
                "job_id": j,
                "idx": 0,
                "name": "deploy",
                "command": "bash services/x/deploy.sh",
                "status": "completed",
                "exit_code": 0,
            }
            for j in range(1, size.jobs + 1)
        ]
        conn.execute(insert(job_steps), steps)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        postgres = not database_url.startswith("sqlite")
        if not postgres:
            cursor.execute("BEGIN")
        for job_id in range(1, size.jobs + 1):
            rows = ((job_id, seq, f"L{seq} t=0{PAD}") for seq in range(1, lines_of(job_id) + 1))
            if postgres:
                with cursor.copy(COPY_LINES) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(INSERT_LINES, cast(Any, rows))
        raw.commit()
        if postgres:
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return big


def _timed(call: Callable[[], object], count: int) -> list[float]:
    out = []
    for _ in range(count):
        began = time.perf_counter()
        call()
        out.append(time.perf_counter() - began)
    return out


def _api_calls(client: httpx.Client, big: int, deep: int) -> dict[str, Callable[[], object]]:
    def get(path: str, **params: Any) -> Callable[[], object]:
        def call() -> object:
            answer = client.get(path, params=params)
            answer.raise_for_status()
            return answer.content

        return call

    return {
        "list": get("/api/jobs"),
        "tail": get(f"/api/jobs/{big}", tail=100),
        "page": get(f"/api/jobs/{big}/output", after=deep, limit=1000),
    }


def _sql_calls(
    database_url: str, big: int, deep: int
) -> tuple[dict[str, Callable[[], object]], Any]:
    engine = make_engine(database_url)
    raw = engine.raw_connection()
    mark = "?" if database_url.startswith("sqlite") else "%s"

    def query(sql: str, *args: object) -> Callable[[], object]:
        def call() -> object:
            cursor = raw.cursor()
            cursor.execute(sql.replace("?", mark), args)
            rows = cursor.fetchall()
            cursor.close()
            raw.rollback()
            return rows

        return call

    calls = {
        "list": query("SELECT * FROM jobs ORDER BY id DESC LIMIT 50"),
        "tail": query(
            "SELECT seq, text FROM job_lines WHERE job_id = ? ORDER BY seq DESC LIMIT 100", big
        ),
        "page": query(
            "SELECT seq, text FROM job_lines WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT 1000",
            big,
            deep,
        ),
    }

    def close() -> None:
        raw.close()
        engine.dispose()

    return calls, close


TITLES = {
    "list": "job list page (`GET /api/jobs`, 50 jobs)",
    "tail": "a job's tail (`GET /api/jobs/{id}?tail=100`)",
    "page": "an output page deep in the big job (`/output?after=<90 %>&limit=1000`)",
}


def run(work: Path, size: HistorySize) -> list[Figure]:
    figures: list[Figure] = []
    kinds: list[tuple[str, str, str | None]] = [
        ("SQLite", sqlite_url(work / "history-sqlite" / "history.db"), None)
    ]
    admin = postgres_url()
    if admin is not None:
        kinds.append(("PostgreSQL", create_postgres_database(admin, "clm_bench_history"), admin))
    for label, url, admin_url in kinds:
        try:
            figures += _run_one(work, size, label, url)
        finally:
            if admin_url is not None:
                drop_postgres_database(admin_url, url)
    if admin is None:
        figures.append(
            Figure(
                "5-pg",
                "History at scale, PostgreSQL",
                "not measured",
                "—",
                "p99 ≤ 50 ms",
                "—",
                None,
                ["CLM_BENCH_POSTGRES_URL is not set"],
            )
        )
    return figures


def _run_one(work: Path, size: HistorySize, label: str, url: str) -> list[Figure]:
    data = work / f"history-{label.lower()}"
    data.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    big = fill(url, size)
    fill_seconds = time.perf_counter() - began
    deep = size.big_lines * 9 // 10
    lab = BenchLab(work / "lab")
    env = script_lab_env(data, url, lab.root)
    starts: list[float] = []
    server = Server(env, work / f"history-{label}.log")
    for _ in range(size.starts):
        starts.append(server.start())
        server.sign_in()
        server.stop()
    empty_data = work / f"empty-{label.lower()}"
    empty_data.mkdir(parents=True, exist_ok=True)
    empty_url = sqlite_url(empty_data / "empty.db") if label == "SQLite" else None
    empty_starts: list[float] = []
    if empty_url is not None:
        for _ in range(size.starts):
            empty = Server(script_lab_env(empty_data, empty_url, lab.root), work / "empty.log")
            empty_starts.append(empty.start())
            empty.stop()
    api: dict[str, list[float]] = {k: [] for k in TITLES}
    sql: dict[str, list[float]] = {k: [] for k in TITLES}
    server.start()
    server.sign_in()
    try:
        with server.client() as client:
            calls = _api_calls(client, big, deep)
            bare, close = _sql_calls(url, big, deep)
            try:
                for call in (*calls.values(), *bare.values()):
                    call()  # warm caches: both sides measured warm
                for _ in range(size.rounds):
                    for key in TITLES:
                        api[key].append(percentile(_timed(calls[key], size.requests), 99))
                        sql[key].append(percentile(_timed(bare[key], size.requests), 99))
            finally:
                close()
    finally:
        server.stop()
    scale = f"{size.jobs:,} jobs, {size.lines:,} lines (big job {size.big_lines:,})"
    figures = [
        Figure(
            key=f"5-{label.lower()}-{key}",
            title=f"History at scale, {label}, {scale}: p99 of {TITLES[key]}",
            value=f"{median(api[key]) * 1000:.1f} ms",
            spread=spread([v * 1000 for v in api[key]], "{:.1f}")
            + f" ms (p99 of {size.requests} requests per run)",
            goal="p99 ≤ 50 ms",
            baseline=f"bare indexed SELECT p99 {median(sql[key]) * 1000:.2f} ms",
            met=median(api[key]) <= 0.050,
            notes=[f"data generated by bulk SQL in {fill_seconds:.0f} s"] if key == "list" else [],
        )
        for key in TITLES
    ]
    figures.append(
        Figure(
            key=f"8-{label.lower()}",
            title=f"Start-up to the first `/api/auth/status` answer, {label}, {scale}",
            value=f"{median(starts):.2f} s",
            spread=spread(starts, "{:.2f}") + " s",
            goal="≤ 2 s",
            baseline=(
                f"same server on an empty SQLite database: {median(empty_starts):.2f} s"
                if empty_starts
                else "see the SQLite row for the empty-database start"
            ),
            met=median(starts) <= 2.0,
        )
    )
    return figures
