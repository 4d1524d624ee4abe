"""Faults with the server as a real process: a full disk, a locked database, a missing
ansible-playbook, an unreachable or silent git server, a misbehaving cloud, and
streaming clients that vanish. The server must fail the affected work clearly, keep
answering, and leak nothing.

SIGKILL and SIGTERM mid-job are in tests/jobs/test_recovery.py.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN
from tests.jobwait import wait_for_job, wait_for_line
from tests.security.conftest import write_security_lab
from tests.serverproc import ServerProcess, free_port, server_env

pytestmark = pytest.mark.slow


@pytest.fixture
def lab_dir(tmp_path: Path) -> Path:
    return write_security_lab(tmp_path / "lab")


def _env(data_dir: Path, lab: Path | None, **extra: str) -> dict[str, str]:
    values = {"LOCAL_MODE": "true", "CLM_CANCEL_GRACE": "1", **extra}
    if lab is not None:
        values.setdefault("CLM_LAB", str(lab))
        values.setdefault("CLM_SANDBOX", "false")
    return server_env(data_dir, **values)


@contextlib.contextmanager
def _server(env: dict[str, str], log: Path) -> Iterator[tuple[ServerProcess, httpx.Client]]:
    server = ServerProcess(env, log)
    server.start(timeout=120)
    try:
        answer = httpx.post(server.url + "/api/auth/setup", json=ADMIN, timeout=30)
        assert answer.status_code == 200, answer.text
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            yield server, client
    finally:
        server.stop()


def _start_job(client: httpx.Client, path: str) -> int:
    answer = client.post(path, json={})
    assert answer.status_code == 200, answer.text
    job_id: int = answer.json()["job_id"]
    return job_id


# -- disk full -------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MB tmpfs: a real ENOSPC for the database, not a simulation."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_fails_the_job_clearly_and_the_server_keeps_answering(
    small_disk: Path, lab_dir: Path, tmp_path: Path
) -> None:
    data_dir = small_disk / "data"
    env = _env(data_dir, lab_dir)
    log = tmp_path / "server.log"
    with _server(env, log) as (server, client):
        job_id = _start_job(client, "/api/services/filler/deploy")
        deadline = time.monotonic() + 120
        while "storing output failed" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "storing output failed" in log.read_text()
        # The disk is full: the server still answers, reads and signs in.
        assert client.get("/api/jobs").status_code == 200
        assert client.get("/api/auth/me").status_code == 200
        assert client.get(f"/api/jobs/{job_id}/output?limit=5").status_code == 200
        # Space comes back: the job's end is recorded without a restart.
        subprocess.run(["mount", "-o", "remount,size=128m", str(small_disk)], check=True)
        job = wait_for_job(client, job_id, timeout=60)
        assert job["status"] == "failed", job["status"]
        assert job["error"] == "job output could not be stored: database or disk is full"
        # line_count is what was stored, not what was printed.
        count = job["line_count"]
        last = client.get(f"/api/jobs/{job_id}/output?after={count - 2}").json()["lines"]
        assert [line["seq"] for line in last] == [count - 1, count]
        after = wait_for_job(client, _start_job(client, "/api/services/hello/deploy"))
        assert after["status"] == "completed", after["output"]
        assert server.proc is not None and server.proc.poll() is None
    check = sqlite3.connect(data_dir / "cloudlabmanager.db")
    try:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        statuses = dict(check.execute("SELECT id, status FROM jobs").fetchall())
    finally:
        check.close()
    assert statuses == {job_id: "failed", job_id + 1: "completed"}


# -- database locked ---------------------------------------------------------------------

LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
print("released", flush=True)
"""


def test_a_locked_database_gets_503_or_a_wait_never_500_and_recovers(
    lab_dir: Path, tmp_path: Path
) -> None:
    env = _env(tmp_path / "data", lab_dir)
    with _server(env, tmp_path / "server.log") as (_server_proc, client):
        db = tmp_path / "data" / "cloudlabmanager.db"
        locker = subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(db), "20"], stdout=subprocess.PIPE, text=True
        )
        try:
            assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
            codes: list[int] = []
            answer = client.post("/api/services/hello/deploy", json={})
            codes.append(answer.status_code)
            if answer.status_code == 503:
                assert answer.json() == {
                    "detail": "The database is busy or unavailable; try again shortly"
                }
                assert answer.headers["retry-after"] == "5"
            codes.append(client.get("/api/jobs").status_code)
            codes.append(client.get("/api/auth/me").status_code)
            assert all(code in (200, 503) for code in codes), codes
            assert codes[0] == 503  # held past the 15 s busy timeout
        finally:
            locker.wait(timeout=60)
        job = wait_for_job(client, _start_job(client, "/api/services/hello/deploy"))
        assert job["status"] == "completed"
        assert [j["id"] for j in client.get("/api/jobs").json()["jobs"]] == [job["id"]]
    log = (tmp_path / "server.log").read_text()
    assert "database unavailable" in log and "Traceback" not in log


# -- ansible-playbook missing --------------------------------------------------------------


def test_a_missing_ansible_playbook_fails_the_job_and_doctor_says_so(
    lab_dir: Path, tmp_path: Path
) -> None:
    env = _env(tmp_path / "data", lab_dir, CLM_JOB_PATH="/usr/bin:/bin")
    with _server(env, tmp_path / "server.log") as (_server_proc, client):
        job = wait_for_job(client, _start_job(client, "/api/instances/refresh"))
        assert job["status"] == "failed"
        assert job["error"] == "generate-inventory: ansible-playbook: command not found on PATH"
        assert any("could not run" in line and "ansible-playbook" in line for line in job["output"])
        assert client.get("/api/auth/status").status_code == 200
        again = wait_for_job(client, _start_job(client, "/api/services/hello/deploy"))
        assert again["status"] == "completed"
    doctor = subprocess.run(
        [sys.executable, "-m", "cloudlabmanager", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert doctor.returncode == 1
    assert "FAIL  ansible-playbook" in doctor.stdout


# -- git unreachable or silent at startup -------------------------------------------------


def _run_until_exit(env: dict[str, str], log: Path, timeout: float = 120) -> tuple[int, str]:
    with log.open("wb") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "cloudlabmanager", "serve", "--port", str(free_port())],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    return proc.returncode, log.read_text()


@contextlib.contextmanager
def _silent_server() -> Iterator[int]:
    """Accepts connections and never says a word: a hung git server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port: int = listener.getsockname()[1]
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


@pytest.mark.parametrize("scheme", ["https", "git"])
def test_an_unreachable_git_server_stops_startup_naming_the_url_without_credentials(
    tmp_path: Path, scheme: str
) -> None:
    port = free_port()  # nothing listens there
    url = f"{scheme}://alice:S3cret-pw@127.0.0.1:{port}/lab.git"
    if scheme == "git":
        url = f"git://127.0.0.1:{port}/lab.git"
    env = _env(tmp_path / "data", None, CLM_LAB=url, CLM_SANDBOX="false", CLM_GIT_TIMEOUT="20")
    code, log = _run_until_exit(env, tmp_path / "server.log")
    assert code != 0
    shown = url.replace("alice:S3cret-pw@", "***@")
    assert f"startup step 5 (lab source) failed: cloning {shown}" in log
    assert "S3cret-pw" not in log
    assert "Application startup failed" in log
    assert not (tmp_path / "data" / "lab").exists()


def test_a_silent_git_server_is_given_up_at_the_timeout(tmp_path: Path) -> None:
    with _silent_server() as port:
        url = f"https://bob:S3cret-pw@127.0.0.1:{port}/lab.git"
        env = _env(tmp_path / "data", None, CLM_LAB=url, CLM_SANDBOX="false", CLM_GIT_TIMEOUT="2")
        code, log = _run_until_exit(env, tmp_path / "server.log")
    assert code != 0
    assert f"cloning https://***@127.0.0.1:{port}/lab.git" in log
    assert "git did not answer within 2 s (CLM_GIT_TIMEOUT)" in log
    assert "S3cret-pw" not in log
    leftovers = [p for p in (tmp_path / "data").iterdir() if p.name.startswith((".lab", "lab"))]
    assert leftovers == []


# -- a misbehaving cloud ----------------------------------------------------------------------


@pytest.mark.ansible
@pytest.mark.parametrize(
    ("faults", "outcome"),
    [
        ("error_rate=1,seed=1", "failed"),
        ("throttle_rate=1,retry_after=1,seed=1", "failed"),
        ("delay_ms=400", "completed"),
    ],
)
def test_the_sandbox_answering_500_429_or_slowly(tmp_path: Path, faults: str, outcome: str) -> None:
    env = _env(tmp_path / "data", None, CLM_SANDBOX_FAULTS=faults, CLM_SANDBOX="true")
    with _server(env, tmp_path / "server.log") as (server, client):
        job = wait_for_job(client, _start_job(client, "/api/instances/refresh"), timeout=600)
        assert job["status"] == outcome, job["output"][-20:]
        if outcome == "failed":
            assert job["error"] == "generate-inventory exited with 2"
            failures = [h for h in job["hosts"] if h["status"] == "failed"]
            assert failures and failures[0]["task"] == "List the instances", job["hosts"]
            assert failures[0]["message"], failures
        assert client.get("/api/auth/me").status_code == 200
        assert server.proc is not None and server.proc.poll() is None


# -- streaming clients that vanish ---------------------------------------------------------------


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


def _open_stream(port: int, token: str, job_id: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        (
            f"GET /api/jobs/{job_id}/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return sock


def test_a_hundred_vanishing_stream_clients_leak_nothing(lab_dir: Path, tmp_path: Path) -> None:
    env = _env(tmp_path / "data", lab_dir)
    with _server(env, tmp_path / "server.log") as (server, client):
        assert server.proc is not None
        pid = server.proc.pid
        token = client.headers["Authorization"].removeprefix("Bearer ")
        job_id = _start_job(client, "/api/services/sleeper/deploy")
        wait_for_line(client, job_id, "started")
        time.sleep(0.5)
        fds_before, threads_before = _fds(pid), _threads(pid)
        sockets = [_open_stream(server.port, token, job_id) for _ in range(100)]
        assert _fds(pid) >= fds_before + 100  # the server really holds them
        for sock in sockets:
            # RST, not FIN: the client is gone without a goodbye.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        deadline = time.monotonic() + 30
        while _fds(pid) > fds_before + 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _fds(pid) <= fds_before + 2, (fds_before, _fds(pid))
        assert _threads(pid) <= threads_before + 2, (threads_before, _threads(pid))
        # The job and the server carry on; a new viewer gets the whole stream.
        assert client.get("/api/auth/me").status_code == 200
        assert client.post(f"/api/jobs/{job_id}/cancel", json={}).status_code == 200
        assert wait_for_job(client, job_id)["status"] == "cancelled"
        with client.stream("GET", f"/api/jobs/{job_id}/stream") as answer:
            body = "".join(answer.iter_text())
        assert body.rstrip().endswith("event: done\ndata: cancelled")
