"""The server as a real subprocess on 127.0.0.1, with an admin session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import rss_kib

ADMIN = {
    "username": "bench",
    "password": "bench-password-1234",
    "vault_password": "demo-vault-password",
}
PASSED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key in PASSED}
    env.update(
        {
            "CLM_DATA_DIR": str(data_dir),
            "CLM_DATABASE_URL": database_url,
            "HOST_HOSTNAME": "bench-host",
            "CLM_LOG_FORMAT": "text",
            **extra,
        }
    )
    return env


def script_lab_env(data_dir: Path, database_url: str, lab: Path) -> dict[str, str]:
    return server_env(
        data_dir, database_url, CLM_LAB=str(lab), CLM_SANDBOX="false", LOCAL_MODE="true"
    )


@dataclass
class Server:
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    token: str | None = None
    startup_seconds: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 120.0) -> float:
        """Spawn the server; returns seconds from spawn to the first /api/auth/status answer."""
        log = self.log_path.open("ab")
        began = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cloudlabmanager", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = began + timeout
        with httpx.Client(timeout=2) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log_tail()}")
                try:
                    if client.get(self.url + "/api/auth/status").status_code == 200:
                        self.startup_seconds = time.perf_counter() - began
                        return self.startup_seconds
                except httpx.HTTPError:
                    pass
                time.sleep(0.01)
        raise RuntimeError(f"server did not answer: {self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def sign_in(self) -> str:
        with httpx.Client(base_url=self.url, headers={"Origin": self.url}, timeout=30) as c:
            if c.get("/api/auth/status").json()["setup_complete"]:
                answer = c.post(
                    "/api/auth/login",
                    json={"username": ADMIN["username"], "password": ADMIN["password"]},
                )
            else:
                answer = c.post("/api/auth/setup", json=ADMIN)
            answer.raise_for_status()
            self.token = str(answer.json()["access_token"])
        return self.token

    @property
    def headers(self) -> dict[str, str]:
        assert self.token is not None
        return {"Authorization": f"Bearer {self.token}", "Origin": self.url}

    def client(self, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=timeout)

    def async_client(self, timeout: float = 60.0, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers=self.headers, timeout=timeout, **kwargs)

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)

    def __enter__(self) -> Server:
        self.start()
        self.sign_in()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def deploy(client: httpx.Client, service: str) -> int:
    answer = client.post(f"/api/services/{service}/deploy", json={})
    answer.raise_for_status()
    return int(answer.json()["job_id"])


def wait_ended(
    client: httpx.Client, job_id: int, timeout: float, poll: float = 0.02
) -> dict[str, Any]:
    """Poll a job until it has ended; returns its detail (no output)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}", params={"tail": 0}).json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(poll)
    raise TimeoutError(f"job {job_id} still running after {timeout} s")
