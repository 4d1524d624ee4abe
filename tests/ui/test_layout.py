"""Phone width: every view fits the screen (no sideways scrolling of the page;
only the log and wide result tables scroll inside themselves)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_view_fits_a_phone(
    browser: Any, start_server: Any, make_lab: Any, admin: Any, scheme: str
) -> None:
    lab = make_lab({"wide": "printf 'a very long line %.0s' $(seq 200); echo\n"})
    server = start_server(CLM_LAB=str(lab), CLM_SANDBOX="false")
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, color_scheme=scheme, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.request.post(f"{server.url}/api/auth/setup", data=admin, headers={"Origin": server.url})
    job_id = page.request.post(
        f"{server.url}/api/services/wide/deploy", data={}, headers={"Origin": server.url}
    ).json()["job_id"]
    deadline = time.monotonic() + 60
    while page.request.get(f"{server.url}/api/jobs/{job_id}?tail=0").json()["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)

    for route, heading in (
        ("dashboard", "Dashboard"),
        ("services", "Services"),
        ("instances", "Instances"),
        ("jobs", "Jobs"),
        (f"jobs/{job_id}", f"Job #{job_id}"),
    ):
        page.goto(f"{server.url}/#/{route}")
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        page.locator(".loading").first.wait_for(state="detached")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{route} scrolls sideways by {overflow}px"
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Jobs")).to_be_in_viewport()
    context.close()
    assert not errors, errors
