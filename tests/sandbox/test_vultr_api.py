"""The sandbox's Vultr API v2: shapes, status codes, pagination, auth, persistence."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

UBUNTU = 2284
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKq3H2b7yG7o5Yk1y0jv9Pjz2i7iC0zC3bYH1s3Vv0aQ test"


def create_instance(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    body = {"label": "web", "hostname": "web", "plan": "vc2-1c-1gb", "region": "mel"}
    body.update({"os_id": UBUNTU, **overrides})
    response = client.post("/instances", json=body)
    assert response.status_code == 201, response.text
    instance: dict[str, Any] = response.json()["instance"]
    return instance


def wait_active(client: httpx.Client, instance_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        instance: dict[str, Any] = client.get(f"/instances/{instance_id}").json()["instance"]
        if instance["status"] == "active" or time.monotonic() > deadline:
            return instance
        time.sleep(0.2)


def read_all(client: httpx.Client, path: str, key: str, per_page: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"per_page": per_page}
    while True:
        page = client.get(path, params=params).json()
        items.extend(page[key])
        cursor = page["meta"]["links"]["next"]
        if not cursor:
            return items
        params = {"per_page": per_page, "cursor": cursor}


def test_wrong_or_missing_key_is_401_with_the_real_body(sandbox: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        response = httpx.get(sandbox.vultr_url + "/instances", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "Invalid API token.", "status": 401}


def test_catalog_lists_have_real_shapes(sandbox: Any) -> None:
    with sandbox.vultr() as client:
        regions = client.get("/regions").json()
        plans = client.get("/plans").json()
        images = client.get("/os").json()
    assert {"id": "mel", "city": "Melbourne"}.items() <= regions["regions"][7].items()
    assert regions["meta"] == {"total": 12, "links": {"next": "", "prev": ""}}
    plan = next(plan for plan in plans["plans"] if plan["id"] == "vc2-1c-1gb")
    assert plan["vcpu_count"] == 1 and plan["ram"] == 1024 and "mel" in plan["locations"]
    assert {"id": UBUNTU, "name": "Ubuntu 24.04 LTS x64", "arch": "x64", "family": "ubuntu"} in (
        images["os"]
    )


def test_cursor_pagination_visits_every_item_once(sandbox: Any) -> None:
    with sandbox.vultr() as client:
        everything = client.get("/regions").json()["regions"]
        paged = read_all(client, "/regions", "regions", per_page=5)
        second = client.get("/regions", params={"per_page": 5}).json()
        following = client.get(
            "/regions", params={"per_page": 5, "cursor": second["meta"]["links"]["next"]}
        ).json()
        bad = client.get("/regions", params={"cursor": "not-a-cursor"})
    assert paged == everything
    assert second["meta"]["total"] == 12 and second["meta"]["links"]["prev"] == ""
    assert following["meta"]["links"]["prev"] != ""
    assert bad.status_code == 400 and bad.json()["status"] == 400


def test_ssh_key_lifecycle(sandbox: Any) -> None:
    with sandbox.vultr() as client:
        created = client.post("/ssh-keys", json={"name": "k1", "ssh_key": PUBLIC_KEY})
        assert created.status_code == 201
        key = created.json()["ssh_key"]
        assert set(key) == {"id", "date_created", "name", "ssh_key"}
        patched = client.patch(f"/ssh-keys/{key['id']}", json={"name": "k2"})
        assert patched.status_code == 204
        assert client.get(f"/ssh-keys/{key['id']}").json()["ssh_key"]["name"] == "k2"
        assert [k["id"] for k in client.get("/ssh-keys").json()["ssh_keys"]] == [key["id"]]
        assert client.post("/ssh-keys", json={"name": "x", "ssh_key": "nope"}).status_code == 400
        assert client.delete(f"/ssh-keys/{key['id']}").status_code == 204
        missing = client.get(f"/ssh-keys/{key['id']}")
    assert missing.status_code == 404
    assert missing.json() == {"error": "SSH key not found.", "status": 404}


def test_instance_lifecycle(sandbox: Any) -> None:
    with sandbox.vultr() as client:
        created = create_instance(client, tags=["web-hello"], label="webHello")
        assert created["status"] == "pending" and created["server_status"] == "none"
        assert created["power_status"] == "running" and created["default_password"]
        assert created["main_ip"].startswith("127.0.") and created["main_ip"] != "127.0.0.1"
        assert created["os"] == "Ubuntu 24.04 LTS x64" and created["tags"] == ["web-hello"]
        active = wait_active(client, created["id"])
        assert active["status"] == "active" and active["server_status"] == "ok"
        assert "default_password" not in active
        patched = client.patch(f"/instances/{created['id']}", json={"tags": ["a", "b"]})
        assert patched.status_code == 202 and patched.json()["instance"]["tags"] == ["a", "b"]
        user_data = client.get(f"/instances/{created['id']}/user-data").json()
        assert user_data == {"user_data": {"data": ""}}
        assert client.post(f"/instances/{created['id']}/halt").status_code == 204
        assert client.get(f"/instances/{created['id']}").json()["instance"]["power_status"] == (
            "stopped"
        )
        assert client.post(f"/instances/{created['id']}/start").status_code == 204
        assert client.get(f"/instances/{created['id']}").json()["instance"]["power_status"] == (
            "running"
        )
        assert client.delete(f"/instances/{created['id']}").status_code == 204
        missing = client.get(f"/instances/{created['id']}")
        assert missing.status_code == 404
        assert missing.json() == {"error": "Instance not found.", "status": 404}
        assert client.delete(f"/instances/{created['id']}").status_code == 404


def test_json_body_labelled_as_form_data_is_accepted(sandbox: Any) -> None:
    body = {"label": "form", "plan": "vc2-1c-1gb", "region": "mel", "os_id": UBUNTU}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with sandbox.vultr() as client:
        response = client.post("/instances", content=json.dumps(body), headers=headers)
        real_form = client.post(
            "/ssh-keys", data={"name": "formkey", "ssh_key": PUBLIC_KEY}, headers=headers
        )
    assert response.status_code == 201 and response.json()["instance"]["label"] == "form"
    assert real_form.status_code == 201


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"region": "xxx"}, "Invalid region."),
        ({"plan": "huge"}, "Invalid plan."),
        ({"os_id": 9}, "Invalid os_id."),
        ({"tags": "web"}, "Invalid tags: expected a list of strings."),
    ],
)
def test_invalid_instance_is_400(sandbox: Any, override: dict[str, Any], message: str) -> None:
    body = {"label": "x", "plan": "vc2-1c-1gb", "region": "mel", "os_id": UBUNTU, **override}
    with sandbox.vultr() as client:
        response = client.post("/instances", json=body)
        assert client.get("/instances").json()["meta"]["total"] == 0
    assert response.status_code == 400
    assert response.json() == {"error": message, "status": 400}


def test_instance_list_filters_and_pages(sandbox: Any) -> None:
    with sandbox.vultr() as client:
        for number in range(7):
            tags = ["even"] if number % 2 == 0 else ["odd"]
            create_instance(client, label=f"vm{number}", tags=tags, region="mel")
        create_instance(client, label="far", region="ams")
        everything = read_all(client, "/instances", "instances", per_page=3)
        first = client.get("/instances", params={"per_page": 3}).json()
        even = client.get("/instances", params={"tag": "even"}).json()
        labelled = client.get("/instances", params={"label": "vm3", "region": "mel"}).json()
        in_ams = client.get("/instances", params={"region": "ams"}).json()
    assert len(everything) == 8 and len({i["id"] for i in everything}) == 8
    assert len(first["instances"]) == 3 and first["meta"]["total"] == 8
    assert even["meta"]["total"] == 4
    assert [i["label"] for i in labelled["instances"]] == ["vm3"]
    assert [i["label"] for i in in_ams["instances"]] == ["far"]


def test_addresses_are_unique_and_freed_on_delete(sandbox: Any) -> None:
    with sandbox.vultr() as client:
        instances = [create_instance(client, label=f"vm{n}") for n in range(4)]
        addresses = [instance["main_ip"] for instance in instances]
        assert len(set(addresses)) == 4
        client.delete(f"/instances/{instances[1]['id']}")
        replacement = create_instance(client, label="new")
    assert replacement["main_ip"] == addresses[1]


def test_concurrent_creates_lose_no_write(sandbox: Any) -> None:
    def create(number: int) -> str:
        with sandbox.vultr() as client:
            return create_instance(client, label=f"vm{number}")["main_ip"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        addresses = list(pool.map(create, range(20)))
    with sandbox.vultr() as client:
        listed = client.get("/instances").json()
    assert listed["meta"]["total"] == 20
    assert len(set(addresses)) == 20
    assert sorted(i["main_ip"] for i in listed["instances"]) == sorted(addresses)


def test_state_survives_a_restart(sandbox_factory: Callable[..., Any]) -> None:
    first = sandbox_factory()
    with first.vultr() as client:
        created = create_instance(client, label="keeper")
    with first.cloudflare() as client:
        zone_id = client.get("/zones").json()["result"][0]["id"]
    second = sandbox_factory(state_dir=first.state_dir)
    with second.vultr() as client:
        again = client.get(f"/instances/{created['id']}")
    with second.cloudflare() as client:
        zone_ids = [zone["id"] for zone in client.get("/zones").json()["result"]]
    assert again.status_code == 200 and again.json()["instance"]["main_ip"] == created["main_ip"]
    assert zone_ids == [zone_id]
    state = json.loads((first.state_dir / "state.json").read_text())
    assert list(state["instances"]) == [created["id"]]
    assert not list(first.state_dir.glob(".state-*.tmp"))
