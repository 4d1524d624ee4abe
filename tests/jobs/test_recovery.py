"""Restart safety with the server as a real process: SIGKILL and SIGTERM mid-job."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN
from tests.jobwait import wait_for_job, wait_for_line
from tests.serverproc import ServerProcess, server_env

pytestmark = pytest.mark.slow


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _sleeper_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"services/sleeper/deploy.sh" in cmdline:
                pids.append(int(entry.name))
    return pids


def _client(server: ServerProcess, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def _setup(server: ServerProcess) -> str:
    answer = httpx.post(server.url + "/api/auth/setup", json=ADMIN, timeout=30)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


@pytest.fixture
def env(tmp_path: Path, lab_dir: Path, database_url: str) -> dict[str, str]:
    return server_env(
        tmp_path / "data",
        CLM_LAB=str(lab_dir),
        CLM_SANDBOX="false",
        LOCAL_MODE="true",
        CLM_DATABASE_URL=database_url,
        CLM_CANCEL_GRACE="2",
    )


def test_sigkill_mid_job_leaves_it_interrupted_with_output(
    env: dict[str, str], tmp_path: Path
) -> None:
    server = ServerProcess(env, tmp_path / "server.log")
    server.start()
    try:
        token = _setup(server)
        with _client(server, token) as client:
            job_id = client.post("/api/services/sleeper/deploy", json={}).json()["job_id"]
            wait_for_line(client, job_id, "started")
        before = _sleeper_pids()
        assert before, "the job's process should be running"
        server.kill()
        # The old job's processes outlive the killed server (own process group) ...
        assert any(_pid_alive(pid) for pid in before)
        server.start()
        with _client(server, token) as client:
            job = client.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "interrupted"
        assert "started" in job["output"]
        assert "interrupted" in job["output"][-1]
        # ... until the restarted server ends them.
        deadline = time.monotonic() + 20
        while any(_pid_alive(pid) for pid in before) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_pid_alive(pid) for pid in before)
    finally:
        server.stop()


def test_sigterm_mid_job_is_graceful(env: dict[str, str], tmp_path: Path) -> None:
    server = ServerProcess(env, tmp_path / "server.log")
    server.start()
    try:
        token = _setup(server)
        with _client(server, token) as client:
            job_id = client.post("/api/services/sleeper/deploy", json={}).json()["job_id"]
            wait_for_line(client, job_id, "started")
        pids = _sleeper_pids()
        # uvicorn re-raises the signal after its graceful shutdown.
        assert server.terminate() in (0, -15)
        assert not any(_pid_alive(pid) for pid in pids)
        server.start()
        with _client(server, token) as client:
            job = wait_for_job(client, job_id, timeout=10)
        assert job["status"] == "interrupted"
        assert "got TERM, ignoring" in job["output"]
        assert job["finished_at"] is not None
    finally:
        server.stop()


def test_a_reused_pgid_is_not_mistaken_for_the_job() -> None:
    import subprocess

    from cloudlabmanager.jobs.process_groups import is_same_group, process_start_ticks

    child = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        started = process_start_ticks(child.pid)
        assert started is not None
        assert is_same_group(child.pid, started)
        # The same pgid with another start time is some other process: leave it alone.
        assert not is_same_group(child.pid, started + 1)
    finally:
        child.kill()
        child.wait()
    # Gone entirely: nothing to mistake (killing an empty group is a no-op).
    assert is_same_group(child.pid, started)
