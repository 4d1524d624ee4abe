"""The fault switch: its syntax, and failures that look like the real clouds'."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloudlabmanager.sandbox import Faults, create_sandbox_app, parse_faults


def test_parse_a_full_fault_string() -> None:
    parsed = parse_faults(
        " error_rate=0.2, throttle_rate=0.1,retry_after=3,delay_ms=200,boot_s=0.5,seed=7 "
    )
    assert parsed == Faults(
        error_rate=0.2, throttle_rate=0.1, retry_after=3, delay_ms=200, boot_s=0.5, seed=7
    )
    assert parse_faults(None) == Faults() and parse_faults("") == Faults()
    assert not Faults().is_active and parsed.is_active


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("error_rate", "not key=value"),
        ("error_rate=", "not key=value"),
        ("error_rate=lots", "invalid value"),
        ("error_rate=1.5", "between 0 and 1"),
        ("delay_ms=-5", "must not be negative"),
        ("retry_after=0.5", "invalid value"),
        ("explode=1", "unknown fault setting 'explode'"),
        ("error_rate=0.1,error_rate=0.2", "given twice"),
        ("error_rate=0.7,throttle_rate=0.6", "must not exceed 1"),
    ],
)
def test_malformed_fault_strings_are_refused(spec: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_faults(spec)


def test_the_app_refuses_a_malformed_fault_string(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown fault setting"):
        create_sandbox_app(tmp_path, faults="chaos=1")


def test_every_request_fails_with_the_real_error_bodies(
    sandbox_factory: Callable[..., Any],
) -> None:
    sandbox = sandbox_factory(faults="error_rate=1")
    with sandbox.vultr() as vultr, sandbox.cloudflare() as cloudflare:
        failed = vultr.post("/instances", json={"label": "x"})
        dns = cloudflare.get("/zones")
    assert failed.status_code == 500
    assert failed.json() == {"error": "Internal server error.", "status": 500}
    assert dns.status_code == 500
    assert dns.json()["success"] is False and dns.json()["errors"][0]["code"] == 10001
    healthy = sandbox_factory(state_dir=sandbox.state_dir)
    with healthy.vultr() as client:
        assert client.get("/instances").json()["meta"]["total"] == 0


def test_throttled_requests_say_when_to_retry(sandbox_factory: Callable[..., Any]) -> None:
    sandbox = sandbox_factory(faults="throttle_rate=1,retry_after=7")
    with sandbox.vultr() as client:
        response = client.get("/regions")
    assert response.status_code == 429 and response.headers["retry-after"] == "7"
    assert response.json() == {"error": "Rate limit exceeded.", "status": 429}


def test_a_fraction_of_requests_fails_and_failures_change_nothing(
    sandbox_factory: Callable[..., Any],
) -> None:
    sandbox = sandbox_factory(faults="error_rate=0.3,throttle_rate=0.2,delay_ms=1,seed=42")
    body = {"label": "x", "plan": "vc2-1c-1gb", "region": "mel", "os_id": 2284}
    with sandbox.vultr() as client:
        statuses = Counter(client.post("/instances", json=body).status_code for _ in range(100))
    assert set(statuses) == {201, 429, 500}
    created = statuses[201]
    listed = sandbox_factory(state_dir=sandbox.state_dir)
    with listed.vultr() as client:
        assert client.get("/instances").json()["meta"]["total"] == created
