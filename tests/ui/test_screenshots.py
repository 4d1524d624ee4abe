"""Screenshots of every view on the demo lab, light and dark, laptop and phone.

They land in docs/screenshots/ when CLM_UPDATE_SCREENSHOTS=1 (then commit them);
otherwise in the test's temp dir, so the run still checks that every view renders
without console errors."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _wait_for_job(page: Any, server: Any, job_id: int) -> str:
    deadline = time.monotonic() + 600
    while True:
        status = str(page.request.get(f"{server.url}/api/jobs/{job_id}?tail=0").json()["status"])
        if status not in ("queued", "running"):
            return status
        assert time.monotonic() < deadline
        time.sleep(0.25)


def _post(page: Any, server: Any, path: str) -> int:
    answer = page.request.post(f"{server.url}{path}", data={}, headers={"Origin": server.url})
    assert answer.ok, answer.text()
    return int(answer.json()["job_id"])


def test_screenshots_of_every_view(
    browser: Any, page: Any, server: Any, admin: Any, tmp_path: Path
) -> None:
    out = DOCS if os.environ.get("CLM_UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)

    def shoot(target: Any, name: str, *, full_page: bool = True) -> None:
        target.wait_for_timeout(300)  # let the entrance animations settle
        target.screenshot(path=str(out / f"{name}.png"), full_page=full_page)

    page.goto(server.url)
    expect(page.get_by_label("Username")).to_be_focused()
    shoot(page, "setup", full_page=False)

    answer = page.request.post(
        f"{server.url}/api/auth/setup", data=admin, headers={"Origin": server.url}
    )
    assert answer.ok
    deploy = _post(page, server, "/api/services/test-ubuntu/deploy")
    # The Job view while the deploy runs (live output, Cancel).
    page.goto(f"{server.url}/#/jobs/{deploy}")
    expect(page.locator(".log-row").nth(5)).to_be_attached(timeout=120_000)
    if "running" in (page.locator("#job-status").text_content() or ""):
        shoot(page, "job-running", full_page=False)
    assert _wait_for_job(page, server, deploy) == "completed"
    web = (
        _post(page, server, "/api/services/web-hello/deploy")
        if _has_service(page, server, "web-hello")
        else None
    )
    if web:
        _wait_for_job(page, server, web)
    refresh = _post(page, server, "/api/instances/refresh")
    assert _wait_for_job(page, server, refresh) == "completed"

    views = [
        ("dashboard", "#/dashboard", "Dashboard"),
        ("services", "#/services", "Services"),
        ("instances", "#/instances", "Instances"),
        ("jobs", "#/jobs", "Jobs"),
        ("job", f"#/jobs/{deploy}", f"Job #{deploy}"),
    ]
    for name, route, heading in views:
        page.goto(f"{server.url}/{route}")
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        page.locator(".loading").first.wait_for(state="detached")
        shoot(page, name)

    for scheme, width, height, suffix in (
        ("dark", 1280, 860, "dark"),
        ("light", 390, 844, "phone"),
    ):
        context = browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=scheme, device_scale_factor=1
        )
        other = context.new_page()
        errors: list[str] = []
        other.on(
            "console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None
        )
        other.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        other.request.post(
            f"{server.url}/api/auth/login",
            data={"username": admin["username"], "password": admin["password"]},
            headers={"Origin": server.url},
        )
        for name, route, heading in views:
            other.goto(f"{server.url}/{route}")
            expect(other.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            other.locator(".loading").first.wait_for(state="detached")
            shoot(other, f"{name}-{suffix}", full_page=suffix != "phone")
        context.close()
        assert not errors, errors

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shoot(page, "login", full_page=False)


def _has_service(page: Any, server: Any, name: str) -> bool:
    services = page.request.get(f"{server.url}/api/services").json()["services"]
    return any(s["name"] == name and not s.get("error") for s in services)
