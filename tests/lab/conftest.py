"""Fixtures of the lab tests: own data dir, own lab, own app per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cloudlabmanager.app import create_app
from cloudlabmanager.config import Settings
from tests.conftest import local_settings
from tests.lab.labkit import make_lab

ADMIN = {"username": "admin", "password": "correct horse battery", "vault_password": "v@ult$pw*"}


@pytest.fixture
def local_lab(tmp_path: Path) -> Path:
    return make_lab(tmp_path / "lab")


@pytest.fixture
def lab_settings(tmp_path: Path, local_lab: Path) -> Callable[..., Settings]:
    """Settings for a local, sandbox-less, Cloudflare-less server; overrides by env name."""

    def build(**overrides: Any) -> Settings:
        return local_settings(tmp_path / "data", local_lab, **overrides)

    return build


@pytest.fixture
def lab_client(lab_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """A running app (lifespan included) on the local lab, signed in as the first admin."""
    with TestClient(create_app(lab_settings())) as client:
        answer = client.post("/api/auth/setup", json=ADMIN)
        assert answer.status_code == 200, answer.text
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield client
