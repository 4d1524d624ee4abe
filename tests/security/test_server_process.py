"""Guarantees that only a real server process shows: uvicorn's own decoding of
encoded paths, and a log file that never holds a secret.

(The test client decodes a path twice; uvicorn decodes it once.)
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN
from tests.jobwait import wait_for_job
from tests.security.conftest import CLOUDFLARE_TOKEN, VULTR_KEY, write_security_lab
from tests.serverproc import ServerProcess, server_env

pytestmark = pytest.mark.slow

VAULT = "srv-$(touch /nonexistent/x)-`id`-.*-\\1"


@pytest.fixture
def server(tmp_path: Path) -> ServerProcess:
    lab = write_security_lab(tmp_path / "lab")
    env = server_env(
        tmp_path / "data",
        CLM_LAB=str(lab),
        CLM_SANDBOX="false",
        LOCAL_MODE="true",
        VULTR_API_KEY=VULTR_KEY,
        CLOUDFLARE_API_TOKEN=CLOUDFLARE_TOKEN,
    )
    return ServerProcess(env, tmp_path / "server.log")


def _raw_get(port: int, target: str, token: str) -> tuple[int, str]:
    """A request line sent exactly as written: no client normalises or re-encodes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


PATHS = [
    ("/api/services/%252e%252e%252fx", 404, "Service not found"),
    ("/api/services/%252e%252e", 404, "Service not found"),
    ("/api/services/%2e%2e", 404, "Service not found"),
    ("/api/services/..%2Fx", 404, "Not Found"),
    ("/api/services/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", 404, "Not Found"),
    ("/api/services/hello%00", 404, "Service not found"),
    ("/api/services/h%D0%B5llo", 404, "Service not found"),
    ("/api/services/../../etc/passwd", 404, "Not Found"),
    ("/api/services/hello/../hello", 404, "Not Found"),
    ("/api/jobs/%2D1", 404, "No job -1"),
    ("/api/jobs?service=%00", 400, "The query string must not contain NUL characters"),
]


def test_encoded_paths_on_uvicorn(server: ServerProcess) -> None:
    server.start(timeout=120)
    try:
        token = httpx.post(server.url + "/api/auth/setup", json=ADMIN, timeout=30).json()[
            "access_token"
        ]
        for target, status, detail in PATHS:
            code, body = _raw_get(server.port, target, token)
            assert (code, json.loads(body)) == (status, {"detail": detail}), target
        # A real service still answers by the same path, so the refusals are not blanket ones.
        assert _raw_get(server.port, "/api/services/hello", token)[0] == 200
    finally:
        server.stop()


def test_the_server_log_never_holds_a_secret(server: ServerProcess) -> None:
    server.start(timeout=120)
    try:
        setup = httpx.post(
            server.url + "/api/auth/setup", json={**ADMIN, "vault_password": VAULT}, timeout=30
        )
        token = setup.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            job = client.post("/api/services/secrets/deploy", json={}).json()["job_id"]
            assert wait_for_job(client, job)["status"] == "completed"
            # Secrets sent where a careless server would log them.
            client.post("/api/auth/login", json={"username": "admin", "password": VAULT})
            client.post("/api/auth/login", json={"username": VAULT, "password": ADMIN["password"]})
            client.get(f"/api/jobs?access_token={token}&service={VAULT}")
            client.post("/api/auth/setup", json={**ADMIN, "vault_password": VAULT})
            client.post("/api/instances/stop", json={"label": VAULT, "region": "mel"})
            client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}x"})
    finally:
        assert server.terminate() in (0, -15)
    log = server.log_path.read_text()
    assert "POST /api/auth/login 401" in log  # the requests did reach the log
    for name, secret in {
        "vault": VAULT,
        "vultr": VULTR_KEY,
        "cloudflare": CLOUDFLARE_TOKEN,
        "admin password": ADMIN["password"],
        "token": token,
        "token signature": token.rsplit(".", 1)[1],
    }.items():
        assert secret not in log, name
