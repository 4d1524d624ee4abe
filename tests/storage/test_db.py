"""Opening the database: migrations are idempotent, SQLite runs WAL with foreign keys."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from cloudlabmanager.storage.db import make_engine, migrate


def test_migrations_create_every_table_and_rerun_as_no_op(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        tables = set(inspect(engine).get_table_names())
        assert {
            "users",
            "app_meta",
            "revoked_tokens",
            "jobs",
            "job_lines",
            "job_steps",
            "job_host_results",
            "alembic_version",
        } <= tables
        with engine.connect() as conn:
            head = conn.scalar(text("SELECT version_num FROM alembic_version"))
        migrate(engine)  # a restart: nothing to do, nothing breaks
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
        columns = {c["name"] for c in inspect(engine).get_columns("jobs")}
        assert {"pgid", "pgid_started", "runner_boot_id", "lock_key"} <= columns
    finally:
        engine.dispose()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("PRAGMA journal_mode")) == "wal"
            assert conn.scalar(text("PRAGMA foreign_keys")) == 1
            assert conn.scalar(text("PRAGMA busy_timeout")) >= 1000
    finally:
        engine.dispose()


def test_output_lines_go_with_their_job(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO jobs (id, action, lock_key, status, params, created_at, "
                    "line_count) VALUES (1, 'deploy', 'x', 'completed', '{}', "
                    "CURRENT_TIMESTAMP, 1)"
                )
            )
            conn.execute(text("INSERT INTO job_lines (job_id, seq, text) VALUES (1, 1, 'a')"))
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM jobs WHERE id = 1"))
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM job_lines")) == 0
    finally:
        engine.dispose()
