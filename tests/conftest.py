"""Shared fixtures: a fresh data dir, database and app for every test.

The database fixture runs each test that uses it twice: on SQLite and on
PostgreSQL (`CLM_TEST_POSTGRES_URL`, a server URL whose user may create
databases). Outside CI a missing PostgreSQL skips that leg with the reason; in
CI (`CI=true`) it fails, so the PostgreSQL leg can never silently vanish.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from cloudlabmanager.app import create_app
from cloudlabmanager.config import Settings

ADMIN = {"username": "admin", "password": "correct horse battery", "vault_password": "v@ult$pw*"}
POSTGRES_ENV = "CLM_TEST_POSTGRES_URL"


def _postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set in CI: the PostgreSQL leg must run")
        pytest.skip(f"PostgreSQL leg skipped: set {POSTGRES_ENV} to run it")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards (skipped when none is reachable)."""
    admin_url = _postgres_admin_url()
    name = f"clm_test_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL leg skipped: {POSTGRES_ENV} unreachable ({exc})")
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for this test."""
    with new_postgres_database() as url:
        yield url


def local_settings(data_dir: Path, lab: Path, **overrides: Any) -> Settings:
    """Settings of a local, sandbox-less, Cloudflare-less server; overrides by env name."""
    values: dict[str, Any] = {
        "CLM_DATA_DIR": str(data_dir),
        "CLM_LAB": str(lab),
        "CLM_SANDBOX": False,
        "LOCAL_MODE": True,
        "HOST_HOSTNAME": "test-host",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def lab_dir(tmp_path: Path) -> Path:
    """A minimal local lab: enough for the server to start."""
    lab = tmp_path / "lab"
    (lab / "services").mkdir(parents=True)
    (lab / "init_playbook").mkdir()
    (lab / "config.yml").write_text("domain_name: lab.test\n")
    return lab


@pytest.fixture
def make_settings(tmp_path: Path, lab_dir: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        return local_settings(tmp_path / "data", lab_dir, **overrides)

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(CLM_DATABASE_URL=database_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def admin_client(client: TestClient) -> TestClient:
    """A client signed in as the first admin (through the real setup route)."""
    answer = client.post("/api/auth/setup", json=ADMIN)
    assert answer.status_code == 200, answer.text
    client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return client
