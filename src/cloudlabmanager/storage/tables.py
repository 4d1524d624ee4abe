"""Every table of the schema, in SQLAlchemy Core (the migrations create the same)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("token_version", Integer, nullable=False, default=0),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Key/value facts of this installation. Secret values are Fernet tokens.
app_meta = Table(
    "app_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("action", String(32), nullable=False),
    Column("service", String(64), nullable=True),
    # The lock the job holds while active: a service name, or "*" for the whole lab.
    Column("lock_key", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("params", Text, nullable=False, default="{}"),
    Column("created_by", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("deployment_id", String(128), nullable=True),
    Column("error", Text, nullable=True),
    Column("line_count", BigInteger, nullable=False, default=0),
    # Which server process runs the job, and the process group of its current step:
    # what a restart needs to find and end an orphaned run.
    Column("runner_boot_id", String(64), nullable=True),
    Column("pgid", Integer, nullable=True),
    # The group leader's start time (clock ticks after boot): a pgid that was reused
    # by an unrelated process after a long downtime must not be killed.
    Column("pgid_started", BigInteger, nullable=True),
    Index("ix_jobs_status", "status"),
    Index("ix_jobs_service_id", "service", "id"),
)

job_lines = Table(
    "job_lines",
    metadata,
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("text", Text, nullable=False),
)

job_steps = Table(
    "job_steps",
    metadata,
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("name", String(128), nullable=False),
    Column("command", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("exit_code", Integer, nullable=True),
)

# Per play/task/host outcome of Ansible steps (kind="task"), and the recap (kind="recap").
job_host_results = Table(
    "job_host_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("step_idx", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("play", Text, nullable=True),
    Column("task", Text, nullable=True),
    Column("host", String(255), nullable=False),
    Column("status", String(16), nullable=True),
    Column("message", Text, nullable=True),
    Column("counts", Text, nullable=True),
    Index("ix_job_host_results_job", "job_id", "step_idx"),
)
