"""The sandbox's Cloudflare API v4: envelopes, auth, zone pagination, DNS records."""

from __future__ import annotations

from typing import Any

import httpx


def zone_id(client: httpx.Client, name: str = "lab.test") -> str:
    result = client.get("/zones", params={"name": name}).json()["result"]
    assert len(result) == 1
    found: str = result[0]["id"]
    return found


def all_zone_names(client: httpx.Client, per_page: int) -> list[str]:
    """Read every page the way a careful client does: until page == total_pages."""
    names: list[str] = []
    page = 1
    while True:
        answer = client.get("/zones", params={"page": page, "per_page": per_page}).json()
        names.extend(zone["name"] for zone in answer["result"])
        if page >= answer["result_info"]["total_pages"]:
            return names
        page += 1


def test_auth_failures_use_the_real_envelope(sandbox: Any) -> None:
    missing = httpx.get(sandbox.cloudflare_url + "/zones")
    wrong = httpx.get(sandbox.cloudflare_url + "/zones", headers={"Authorization": "Bearer x"})
    assert missing.status_code == 400 and wrong.status_code == 403
    for response in (missing, wrong):
        body = response.json()
        assert body["success"] is False and body["result"] is None
        assert body["errors"][0]["code"] in (6003, 9109) and body["messages"] == []


def test_default_zone_and_name_filter(sandbox: Any) -> None:
    with sandbox.cloudflare() as client:
        answer = client.get("/zones", params={"name": "lab.test"}).json()
        nothing = client.get("/zones", params={"name": "other.test"}).json()
        verified = client.get("/user/tokens/verify").json()
    assert answer["success"] is True and answer["errors"] == []
    assert answer["result"][0]["name"] == "lab.test" and answer["result"][0]["status"] == "active"
    assert answer["result_info"] == {
        "page": 1,
        "per_page": 20,
        "count": 1,
        "total_count": 1,
        "total_pages": 1,
    }
    assert nothing["result"] == [] and nothing["result_info"]["total_count"] == 0
    assert verified["result"]["status"] == "active"


def test_zone_list_is_paginated(sandbox: Any) -> None:
    with sandbox.cloudflare() as client:
        for number in range(11):
            created = client.post("/zones", json={"name": f"zone{number:02}.test"})
            assert created.status_code == 200 and created.json()["success"] is True
        duplicate = client.post("/zones", json={"name": "lab.test"})
        first = client.get("/zones", params={"per_page": 5}).json()
        beyond = client.get("/zones", params={"page": 9, "per_page": 5}).json()
        names = all_zone_names(client, per_page=5)
        clamped = client.get("/zones", params={"per_page": 1000}).json()
    assert duplicate.status_code == 400 and duplicate.json()["success"] is False
    assert first["result_info"] == {
        "page": 1,
        "per_page": 5,
        "count": 5,
        "total_count": 12,
        "total_pages": 3,
    }
    assert beyond["result"] == [] and beyond["result_info"]["count"] == 0
    assert sorted(names) == sorted(["lab.test", *[f"zone{n:02}.test" for n in range(11)]])
    assert len(names) == 12
    assert clamped["result_info"]["per_page"] == 50


def test_dns_record_lifecycle(sandbox: Any) -> None:
    with sandbox.cloudflare() as client:
        zone = zone_id(client)
        records = f"/zones/{zone}/dns_records"
        created = client.post(records, json={"type": "A", "name": "test", "content": "127.0.9.1"})
        assert created.status_code == 200
        record = created.json()["result"]
        assert record["name"] == "test.lab.test" and record["zone_name"] == "lab.test"
        assert record["ttl"] == 1 and record["proxied"] is False
        client.post(records, json={"type": "TXT", "name": "test", "content": "hello"})
        client.post(records, json={"type": "A", "name": "other", "content": "127.0.9.2"})
        by_name = client.get(records, params={"name": "test.lab.test"}).json()
        by_both = client.get(records, params={"name": "test.lab.test", "type": "A"}).json()
        assert len(by_name["result"]) == 2 and by_name["result_info"]["total_count"] == 2
        assert [r["id"] for r in by_both["result"]] == [record["id"]]
        duplicate = client.post(records, json={"type": "A", "name": "test", "content": "127.0.9.1"})
        assert duplicate.status_code == 400 and duplicate.json()["errors"][0]["code"] == 81058
        put = client.put(
            f"{records}/{record['id']}",
            json={"type": "A", "name": "test.lab.test", "content": "127.0.9.3", "ttl": 60},
        )
        assert put.status_code == 200 and put.json()["result"]["content"] == "127.0.9.3"
        patched = client.patch(f"{records}/{record['id']}", json={"content": "127.0.9.4"})
        assert patched.json()["result"]["content"] == "127.0.9.4"
        assert patched.json()["result"]["ttl"] == 60
        deleted = client.delete(f"{records}/{record['id']}")
        assert deleted.status_code == 200 and deleted.json()["result"] == {"id": record["id"]}
        gone = client.get(f"{records}/{record['id']}")
        assert gone.status_code == 404 and gone.json()["errors"][0]["code"] == 81044
        left = client.get(records, params={"type": "A"}).json()["result"]
    assert [r["name"] for r in left] == ["other.lab.test"]


def test_invalid_records_and_unknown_zones(sandbox: Any) -> None:
    with sandbox.cloudflare() as client:
        zone = zone_id(client)
        records = f"/zones/{zone}/dns_records"
        not_ip = client.post(records, json={"type": "A", "name": "x", "content": "nope"})
        no_name = client.post(records, json={"type": "A", "content": "127.0.0.9"})
        bad_ttl = client.post(
            records, json={"type": "A", "name": "x", "content": "127.0.0.9", "ttl": 5}
        )
        bad_body = client.post(records, content=b"[1, 2]")
        unknown_zone = client.get("/zones/" + "f" * 32 + "/dns_records")
        unknown_route = client.get("/nothing-here")
        total = client.get(records).json()["result_info"]["total_count"]
    for response in (not_ip, no_name, bad_ttl, bad_body):
        assert response.status_code == 400 and response.json()["success"] is False
    assert not_ip.json()["errors"][0]["code"] == 9005
    assert unknown_zone.status_code == 404 and unknown_zone.json()["errors"][0]["code"] == 7003
    assert unknown_route.status_code == 404 and unknown_route.json()["success"] is False
    assert total == 0
