"""The sandbox mounted under /sandbox of another app, as the manager serves it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cloudlabmanager.sandbox import create_sandbox_app, sandbox_environment


def mounted(state_dir: Path, faults: str | None = None) -> TestClient:
    parent = FastAPI()
    parent.mount("/sandbox", create_sandbox_app(state_dir, api_key="k", faults=faults))
    return TestClient(parent, base_url="http://manager", headers={"Authorization": "Bearer k"})


def test_environment_points_under_the_mount(tmp_path: Path) -> None:
    environment = sandbox_environment("http://127.0.0.1:8000/sandbox/", tmp_path, "k")
    assert environment == {
        "VULTR_API_ENDPOINT": "http://127.0.0.1:8000/sandbox/vultr/v2",
        "VULTR_API_KEY": "k",
        "CLOUDFLARE_API_URL": "http://127.0.0.1:8000/sandbox/cloudflare/client/v4",
        "CLOUDFLARE_API_TOKEN": "k",
        "CLM_SANDBOX_DISKS": str(tmp_path / "instances"),
    }


def test_both_apis_answer_under_the_mount(tmp_path: Path) -> None:
    with mounted(tmp_path) as client:
        regions = client.get("/sandbox/vultr/v2/regions", params={"per_page": 2})
        zones = client.get("/sandbox/cloudflare/client/v4/zones", params={"name": "lab.test"})
        vultr_missing = client.get("/sandbox/vultr/v2/instances/nope")
        vultr_no_route = client.get("/sandbox/vultr/v2/nothing")
        cloudflare_no_route = client.get("/sandbox/cloudflare/client/v4/nothing")
    assert regions.status_code == 200 and regions.json()["meta"]["links"]["next"]
    assert zones.json()["result"][0]["name"] == "lab.test"
    assert vultr_missing.json() == {"error": "Instance not found.", "status": 404}
    assert vultr_no_route.status_code == 404 and vultr_no_route.json()["status"] == 404
    assert cloudflare_no_route.status_code == 404
    assert cloudflare_no_route.json()["success"] is False


def test_faults_render_per_api_under_the_mount(tmp_path: Path) -> None:
    with mounted(tmp_path, faults="error_rate=1") as client:
        vultr = client.get("/sandbox/vultr/v2/regions")
        cloudflare = client.get("/sandbox/cloudflare/client/v4/zones")
    assert vultr.json() == {"error": "Internal server error.", "status": 500}
    assert cloudflare.status_code == 500 and cloudflare.json()["success"] is False
