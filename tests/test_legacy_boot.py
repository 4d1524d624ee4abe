"""Startup step 3: a legacy database.json in the data dir is imported once, on a new database."""

from __future__ import annotations

import json
from collections.abc import Callable

import bcrypt
from fastapi.testclient import TestClient

from cloudlabmanager.app import create_app
from cloudlabmanager.config import Settings


def test_first_boot_imports_database_json_once(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    settings.data_dir.mkdir(parents=True)
    legacy = settings.data_dir / "database.json"
    password_hash = bcrypt.hashpw(b"legacy-password", bcrypt.gensalt(rounds=4)).decode()
    legacy.write_text(
        json.dumps({"users": {"olduser": {"password_hash": password_hash}}, "jobs": {}})
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/auth/status").json() == {"setup_complete": True}
        login = client.post(
            "/api/auth/login", json={"username": "olduser", "password": "legacy-password"}
        )
        assert login.status_code == 200
    assert not legacy.exists()
    assert (settings.data_dir / "database.json.imported").exists()
    # A new file appearing later is left alone: the database is no longer new.
    legacy.write_text(json.dumps({"users": {"intruder": {"password_hash": password_hash}}}))
    with TestClient(create_app(settings)) as client:
        refused = client.post(
            "/api/auth/login", json={"username": "intruder", "password": "legacy-password"}
        )
        assert refused.status_code == 401
    assert legacy.exists()


def test_broken_database_json_stops_startup_clearly(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "database.json").write_text("{not json")
    try:
        with TestClient(create_app(settings)):
            raise AssertionError("startup should have failed")
    except Exception as exc:
        message = str(exc)
        assert "step 3" in message and "database.json" in message and "not valid JSON" in message
