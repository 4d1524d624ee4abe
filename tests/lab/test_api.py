"""GET /api/services, /api/services/{name} and /api/instances against a running app."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import insert

from cloudlabmanager.context import AppContext
from cloudlabmanager.lab.inventory import refresh_instances_cache
from cloudlabmanager.storage.clock import utcnow
from cloudlabmanager.storage.tables import jobs
from tests.lab.labkit import write
from tests.lab.test_inventory import INVENTORY, SECRETS


def _ctx(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def _job(ctx: AppContext, service: str | None, status: str) -> int:
    with ctx.engine.begin() as conn:
        result = conn.execute(
            insert(jobs).values(
                action="deploy",
                service=service,
                lock_key=service or "*",
                status=status,
                params="{}",
                created_at=utcnow(),
            )
        )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def test_services_list(lab_client: TestClient) -> None:
    ctx = _ctx(lab_client)
    _job(ctx, "web", "completed")
    running = _job(ctx, "web", "running")
    answer = lab_client.get("/api/services")
    assert answer.status_code == 200
    services = {s["name"]: s for s in answer.json()["services"]}
    assert sorted(services) == ["scripted", "test-ubuntu", "web"]
    assert services["web"]["active_job"] == running
    assert services["test-ubuntu"]["active_job"] is None
    assert services["scripted"]["flow"] == "script"
    assert services["test-ubuntu"]["instances"] == [
        {
            "label": "testUbuntu",
            "hostname": "test",
            "plan": "vc2-1c-1gb",
            "region": "mel",
            "os": "Ubuntu 24.04 LTS x64",
            "tags": ["test-ubuntu"],
        }
    ]
    assert services["test-ubuntu"]["error"] is None


def test_a_broken_service_shows_its_error_and_the_list_still_loads(
    lab_client: TestClient, local_lab: Path
) -> None:
    write(local_lab / "services" / "broken" / "instance.yaml", "instances: [\n")
    write(local_lab / "services" / "broken" / "main.yaml", "[]\n")
    services = {s["name"]: s for s in lab_client.get("/api/services").json()["services"]}
    assert services["broken"]["error"].startswith("instance.yaml")
    assert services["web"]["error"] is None


def test_service_detail(lab_client: TestClient) -> None:
    answer = lab_client.get("/api/services/test-ubuntu")
    assert answer.status_code == 200
    body = answer.json()
    assert body["name"] == "test-ubuntu"
    assert body["temp_inventory"] == "services/test-ubuntu/outputs/temp_inventory.yaml"
    assert body["key_name"] == "key"
    assert body["instance_yaml"]["instances"][0]["label"] == "testUbuntu"


@pytest.mark.parametrize(
    "path",
    [
        "/api/services/nope",
        "/api/services/docker-base",
        "/api/services/..%2f..%2fetc",
        "/api/services/%2e%2e",
        "/api/services/a..b",
        "/api/services/-rf",
        "/api/services/w%D0%B5b",
        "/api/services/web%00",
        "/api/services/" + "x" * 300,
    ],
)
def test_unknown_and_invalid_names_are_404(lab_client: TestClient, path: str) -> None:
    answer = lab_client.get(path)
    assert answer.status_code == 404
    assert answer.json() in ({"detail": "Service not found"}, {"detail": "Not Found"})


def test_routes_need_a_user(lab_client: TestClient) -> None:
    del lab_client.headers["Authorization"]
    lab_client.cookies.clear()
    for path in ("/api/services", "/api/services/web", "/api/instances"):
        assert lab_client.get(path).status_code == 401


def test_instances_never_show_a_secret(lab_client: TestClient, local_lab: Path) -> None:
    empty = lab_client.get("/api/instances").json()
    assert empty == {"instances": {}, "hosts": [], "cached_at": None}
    write(local_lab / "inventory" / "vultr.yml", yaml.safe_dump(INVENTORY))
    refresh_instances_cache(_ctx(lab_client))
    answer = lab_client.get("/api/instances")
    assert answer.status_code == 200
    for secret in SECRETS:
        assert secret not in answer.text
    body = answer.json()
    assert body["cached_at"].endswith(("+00:00", "Z"))
    ubuntu = next(h for h in body["hosts"] if h["label"] == "testUbuntu")
    assert ubuntu == {
        "label": "testUbuntu",
        "hostname": "test",
        "ip": "203.0.113.10",
        "region": "mel",
        "plan": "vc2-1c-1gb",
        "os": "Ubuntu 24.04 LTS x64",
        "power_status": "running",
        "tags": ["test-ubuntu"],
    }
    assert body["instances"]["all"]["hosts"]["testUbuntu"]["root_password"] == "********"
