"""bootstrap.py: the startup sequence end to end, its failures, and restarts."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from cloudlabmanager.app import create_app
from cloudlabmanager.bootstrap import lookup_zone, open_storage
from cloudlabmanager.config import Settings
from cloudlabmanager.context import AppContext
from cloudlabmanager.errors import StartupError
from cloudlabmanager.lab.links import LINK_NAMES
from cloudlabmanager.sandbox.app import create_sandbox_app
from cloudlabmanager.storage import meta as keys
from tests.conftest import local_settings
from tests.lab.labkit import git, make_lab, make_remote, push_change, write


@pytest.fixture
def build(tmp_path: Path) -> Callable[..., Settings]:
    lab = make_lab(tmp_path / "lab")

    def settings(**overrides: Any) -> Settings:
        return local_settings(tmp_path / "data", lab, **overrides)

    return settings


def boot(settings: Settings) -> AppContext:
    """Start and stop the app once (its lifespan included); the context it ran with."""
    with TestClient(create_app(settings)) as client:
        ctx: AppContext = client.app.state.context  # type: ignore[attr-defined]
        assert client.get("/api/auth/status").status_code == 200
    return ctx


def _snapshot(root: Path) -> dict[str, str]:
    """Hashes of the work tree (git's own bookkeeping, like FETCH_HEAD, aside)."""
    found = {"HEAD": git(root, "rev-parse", "HEAD")}
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts:
            continue
        if path.is_file() and not path.is_symlink():
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def test_every_step_logs_one_line(
    build: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="cloudlabmanager.startup"):
        boot(build())
    lines = [r.getMessage() for r in caplog.records if r.name == "cloudlabmanager.startup"]
    numbers = [line.split()[1] for line in lines if line.startswith("step ")]
    assert numbers == ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
    assert any("LOCAL_MODE is on" in line for line in lines)


def test_a_git_lab_is_cloned_then_pulled_and_a_quiet_restart_changes_nothing(
    tmp_path: Path, build: Callable[..., Settings]
) -> None:
    bare, work = make_remote(tmp_path / "remote")
    settings = build(
        CLM_LAB=f"file://{bare}",
        CLM_GIT_ALLOW_FILE_URLS=True,
        CLM_LINK_ROOT=True,
        CLM_LINK_ROOT_DIR=str(tmp_path / "root"),
        VAULT_PASSWORD="pw",
    )
    (tmp_path / "root").mkdir()
    first = boot(settings)
    assert first.lab_dir == (settings.data_dir / "lab").resolve()
    lab_files = _snapshot(first.lab_dir)
    host = first.meta.get_with_time(keys.HOST_HOSTNAME)
    links = {name: os.lstat(tmp_path / "root" / name).st_ino for name in LINK_NAMES}

    second = boot(settings)
    assert _snapshot(second.lab_dir or Path()) == lab_files
    assert second.meta.get_with_time(keys.HOST_HOSTNAME) == host
    assert {name: os.lstat(tmp_path / "root" / name).st_ino for name in LINK_NAMES} == links

    head = push_change(work, "services/web/main.yaml", "- hosts: web\n  tasks: []\n")
    third = boot(settings)
    assert third.lab_dir is not None
    assert git(third.lab_dir, "rev-parse", "--short", "HEAD") == head


def test_the_vault_file_lives_while_the_server_runs(build: Callable[..., Settings]) -> None:
    settings = build(VAULT_PASSWORD="pw-123")
    path = settings.runtime_dir / "vault-password"
    with TestClient(create_app(settings)):
        assert path.read_text() == "pw-123\n"
    assert not path.exists()


@pytest.mark.parametrize(
    ("overrides", "step", "hint"),
    [
        ({"CLM_LAB": "--upload-pack=touch /tmp/clm-pwned"}, "step 5 (lab source)", "starts with"),
        ({"CLM_LAB": "ext::sh -c touch% /tmp/clm-pwned"}, "step 5 (lab source)", "transport"),
        ({"CLM_LAB": "/no/such/lab"}, "step 5 (lab source)", "nor a directory"),
        (
            {"LOCAL_MODE": False},
            "step 7 (host name and Cloudflare zone)",
            "CLOUDFLARE_API_TOKEN is not set",
        ),
    ],
)
def test_a_failing_step_stops_the_server_and_says_why(
    build: Callable[..., Settings], overrides: dict[str, Any], step: str, hint: str
) -> None:
    with pytest.raises(StartupError) as caught:
        boot(build(**overrides))
    assert step in str(caught.value)
    assert hint in str(caught.value)
    assert not Path("/tmp/clm-pwned").exists()


def test_a_broken_startup_actions_file_stops_the_server(build: Callable[..., Settings]) -> None:
    settings = build()
    write(settings.data_dir / "startup_action.conf.yaml", "startup:\n  - RUN false\n")
    with pytest.raises(StartupError, match=r"step 4 \(startup actions\).*line 1"):
        boot(settings)


def test_the_zone_is_looked_up_in_the_mounted_sandbox(
    tmp_path: Path, build: Callable[..., Settings]
) -> None:
    settings = build(LOCAL_MODE=False, CLM_SANDBOX=True)
    ctx = boot(settings)
    zone = ctx.meta.get_with_time(keys.DNS_ZONE_ID)
    assert zone is not None and len(zone[0]) == 32
    again = boot(settings)
    assert again.meta.get_with_time(keys.DNS_ZONE_ID) == zone


async def test_sandbox_mode_without_a_mounted_sandbox_is_refused(
    build: Callable[..., Settings],
) -> None:
    ctx = open_storage(build(LOCAL_MODE=False, CLM_SANDBOX=True))
    ctx.lab_dir = Path(ctx.settings.lab or "")
    with pytest.raises(StartupError, match="not mounted"):
        await lookup_zone(ctx, None)


def test_a_zone_missing_from_the_sandbox_names_it(
    tmp_path: Path, build: Callable[..., Settings]
) -> None:
    settings = build(LOCAL_MODE=False, CLM_SANDBOX=True)
    write(Path(settings.lab or "") / "config.yml", "domain_name: nowhere.test\n")
    with pytest.raises(StartupError, match=r"nowhere\.test"):
        boot(settings)


@pytest.fixture
def cloudflare_url(tmp_path: Path) -> Iterator[str]:
    """The sandbox's Cloudflare API over real HTTP on a free local port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_sandbox_app(tmp_path / "http-sandbox", api_key="tok-from-env-file")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/cloudflare/client/v4"
    server.should_exit = True
    thread.join()


def test_startup_actions_feed_the_zone_lookup(
    build: Callable[..., Settings], cloudflare_url: str
) -> None:
    settings = build(LOCAL_MODE=False, CLM_CLOUDFLARE_API_URL=cloudflare_url)
    workdir = settings.data_dir / "startup"
    write(workdir / "settings" / "startup.conf.yaml", "core_settings: settings/core.yaml\n")
    write(workdir / "settings" / "core.yaml", "dns_basename: lab.test\n")
    write(
        settings.data_dir / "startup_action.conf.yaml",
        "startup:\n  - ENV CLOUDFLARE_API_TOKEN=tok-from-env-file\n"
        "  - ENV HOST_HOSTNAME=ignored-because-set\n  - RETURN settings/startup.conf.yaml\n",
    )
    ctx = boot(settings)
    assert ctx.dns_basename == "lab.test"
    assert ctx.startup_env["CLOUDFLARE_API_TOKEN"] == "tok-from-env-file"
    assert ctx.meta.get(keys.DNS_ZONE_ID)
    assert ctx.meta.get(keys.HOST_HOSTNAME) == "test-host"


def test_the_default_boot_uses_the_demo_lab_and_the_sandbox(
    build: Callable[..., Settings],
) -> None:
    """No CLM_LAB, no LOCAL_MODE: the one-command newcomer experience of SPEC section 1."""
    settings = build(CLM_LAB=None, CLM_SANDBOX=None, LOCAL_MODE=False)
    with TestClient(create_app(settings)) as client:
        ctx: AppContext = client.app.state.context  # type: ignore[attr-defined]
        assert ctx.lab_dir == (settings.data_dir / "lab").resolve()
        assert ctx.meta.get(keys.DNS_ZONE_ID)
        token = client.post(
            "/api/auth/setup", json={"username": "admin", "password": "correct horse battery"}
        ).json()["access_token"]
        answer = client.get("/api/services", headers={"Authorization": f"Bearer {token}"})
    services = {s["name"]: s for s in answer.json()["services"]}
    assert "docker-base" not in services
    assert services["test-ubuntu"]["instances"][0]["label"] == "testUbuntu"
    assert all(s["error"] is None for s in services.values())
