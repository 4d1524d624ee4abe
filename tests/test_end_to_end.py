"""The whole product on the embedded default, through the HTTP API only.

A real server process on the demo lab and the sandbox cloud, the real
ansible-playbook and vultr.cloud: the original project's own end-to-end flow
(deploy test-ubuntu, refresh, find testUbuntu, destroy it, refresh, gone), the
web service's page fetched from its instance address, stop-all leaving nothing
behind, and the same after a restart.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from cloudlabmanager.sandbox import stop_all_processes
from tests.conftest import ADMIN
from tests.jobwait import wait_for_job
from tests.serverproc import ServerProcess, server_env

pytestmark = [pytest.mark.ansible, pytest.mark.slow]
DEMO = {**ADMIN, "vault_password": "demo-vault-password"}


def _start_job(
    client: httpx.Client, path: str, body: dict[str, str] | None = None
) -> dict[str, object]:
    answer = client.post(path, json=body or {})
    assert answer.status_code == 200, answer.text
    job = wait_for_job(client, answer.json()["job_id"], timeout=300)
    assert job["status"] == "completed", "\n".join(job["output"][-40:])
    return job


def _labels(client: httpx.Client) -> list[str]:
    return sorted(h["label"] for h in client.get("/api/instances").json()["hosts"])


def _sandbox_processes(data_dir: Path) -> list[int]:
    alive = []
    for pidfile in (data_dir / "sandbox").rglob("*.pid"):
        try:
            pid = int(pidfile.read_text().strip())
        except ValueError:
            continue
        if Path(f"/proc/{pid}").exists():
            alive.append(pid)
    return alive


def test_demo_lab_end_to_end(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = server_env(data_dir, LOCAL_MODE="false")
    server = ServerProcess(env, tmp_path / "server.log")
    server.start(timeout=120)
    try:
        token = httpx.post(server.url + "/api/auth/setup", json=DEMO, timeout=30).json()[
            "access_token"
        ]
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            names = {s["name"] for s in client.get("/api/services").json()["services"]}
            assert {"test-ubuntu", "web-hello", "web-pair"} <= names

            # The original's own end-to-end flow.
            _start_job(client, "/api/services/test-ubuntu/deploy")
            _start_job(client, "/api/instances/refresh")
            hosts = client.get("/api/instances").json()["hosts"]
            ubuntu = [h for h in hosts if h["label"] == "testUbuntu"]
            assert ubuntu and ubuntu[0]["region"] == "mel"
            assert re.fullmatch(r"127\.0\.\d+\.\d+", ubuntu[0]["ip"] or "")
            _start_job(client, "/api/instances/stop", {"label": "testUbuntu", "region": "mel"})
            _start_job(client, "/api/instances/refresh")
            assert "testUbuntu" not in _labels(client)

            # The web service answers on its instance's address.
            job = _start_job(client, "/api/services/web-hello/deploy")
            urls = re.findall(r"serves (http://127\.0\.[0-9.]+:\d+/)", "\n".join(job["output"]))
            assert urls, job["output"][-20:]
            page = httpx.get(urls[0], timeout=10)
            assert page.status_code == 200 and "Hello from the CloudLab sandbox" in page.text
            assert _sandbox_processes(data_dir)

        # A restart keeps the history and the lab's state.
        assert server.terminate() in (0, -15)
        server.start(timeout=120)
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            assert len(client.get("/api/jobs").json()["jobs"]) == 5
            _start_job(client, "/api/instances/refresh")
            assert "webHello" in _labels(client)
            assert httpx.get(urls[0], timeout=10).status_code == 200
            _start_job(client, "/api/services/web-pair/deploy")
            _start_job(client, "/api/services/actions/stop-all")
            assert _labels(client) == []
            with pytest.raises(httpx.HTTPError):
                httpx.get(urls[0], timeout=3)
        assert _sandbox_processes(data_dir) == []
    finally:
        server.stop()
        stop_all_processes(data_dir / "sandbox")  # whatever a failed run left behind
