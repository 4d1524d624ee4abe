"""The command line: user administration, legacy import, doctor."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import bcrypt
from fastapi.testclient import TestClient

from cloudlabmanager.app import create_app
from cloudlabmanager.config import Settings
from tests.serverproc import server_env


def _cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloudlabmanager", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _env(settings: Settings) -> dict[str, str]:
    return server_env(
        settings.data_dir,
        CLM_DATABASE_URL=settings.effective_database_url,
        CLM_LAB=str(settings.lab),
        LOCAL_MODE="true",
        CLM_SANDBOX="false",
    )


def test_create_user_then_reset_password_signs_out(settings: Settings) -> None:
    env = _env(settings)
    created = _cli(env, "create-user", "alice", stdin="first-password\n")
    assert created.returncode == 0, created.stderr
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/auth/status").json() == {"setup_complete": True}
        login = client.post(
            "/api/auth/login", json={"username": "alice", "password": "first-password"}
        )
        token = login.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/auth/me", headers=headers).status_code == 200
        reset = _cli(env, "reset-password", "--username", "alice", stdin="second-password\n")
        assert reset.returncode == 0, reset.stderr
        assert client.get("/api/auth/me", headers=headers).status_code == 401
        again = client.post(
            "/api/auth/login", json={"username": "alice", "password": "second-password"}
        )
        assert again.status_code == 200


def test_cli_refuses_bad_input_clearly(settings: Settings) -> None:
    env = _env(settings)
    short = _cli(env, "create-user", "bob", stdin="short\n")
    assert short.returncode == 1 and "Password must be" in short.stderr
    unknown = _cli(env, "reset-password", "--username", "nobody", stdin="long-enough-pw\n")
    assert unknown.returncode == 1 and "No user named" in unknown.stderr
    assert "Traceback" not in short.stderr + unknown.stderr


def test_import_legacy_database(settings: Settings, tmp_path: Path) -> None:
    legacy = tmp_path / "database.json"
    password_hash = bcrypt.hashpw(b"legacy-password", bcrypt.gensalt(rounds=4)).decode()
    legacy.write_text(
        json.dumps(
            {
                "users": {"olduser": {"password_hash": password_hash}},
                "vault_password": "legacy-vault-pw",
                "instances_cache": {"all": {"hosts": {"h1": {"ansible_host": "10.0.0.1"}}}},
                "instances_cache_time": "2024-01-01T00:00:00",
                "HOST_HOSTNAME": "oldhost",
                "dns_id": "zone123",
                "jobs": {
                    "abc-123": {
                        "service": "web",
                        "action": "deploy",
                        "status": "running",
                        "started_at": "2024-01-01T00:00:00",
                        "output": ["line one", "secret is legacy-vault-pw"],
                    }
                },
            }
        )
    )
    result = _cli(_env(settings), "import-json", str(legacy))
    assert result.returncode == 0, result.stderr
    assert "1 user(s) and 1 job(s)" in result.stdout
    assert not legacy.exists() and legacy.with_name("database.json.imported").exists()
    with TestClient(create_app(settings)) as client:
        login = client.post(
            "/api/auth/login", json={"username": "olduser", "password": "legacy-password"}
        )
        assert login.status_code == 200
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        jobs = client.get("/api/jobs").json()["jobs"]
        assert len(jobs) == 1 and jobs[0]["status"] == "interrupted"
        job = client.get(f"/api/jobs/{jobs[0]['id']}").json()
        assert job["output"] == ["line one", "secret is ********"]
    # A second import of the renamed file is impossible; of a new one, refused.
    legacy.write_text(json.dumps({"users": {}}))
    refused = _cli(_env(settings), "import-json", str(legacy))
    assert refused.returncode == 1 and "--force" in refused.stderr


def test_doctor_reports_missing_ansible(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    env = _env(settings)
    ok = _cli(env, "doctor")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ansible-playbook" in ok.stdout and "checks passed" in ok.stdout
    env["CLM_JOB_PATH"] = "/usr/bin:/bin"
    missing = _cli(env, "doctor")
    assert missing.returncode == 1
    assert "FAIL  ansible-playbook" in missing.stdout and "not found on PATH" in missing.stdout
