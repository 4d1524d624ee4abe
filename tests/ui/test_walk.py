"""A newcomer's walk on the embedded default (demo lab on the sandbox cloud):
first boot, deploy, live output, the instance in Instances, refresh, stop all."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

JOB_URL = re.compile(r"#/jobs/(\d+)$")
ENDED = re.compile(r"completed|failed|cancelled|interrupted")


def expect_job_to_complete(page: Any, limit_ms: int = 600_000) -> None:
    """Wait until the Job view shows an end state, then require `completed`."""
    status = page.locator("#job-status")
    expect(status).to_have_text(ENDED, timeout=limit_ms)
    if "completed" not in (status.text_content() or ""):
        tail = "\n".join(page.locator(".log-row .log-text").all_inner_texts()[-25:])
        raise AssertionError(f"job ended {status.text_content()}:\n{tail}")


def wait_for_job(page: Any, server: Any, job_id: int, limit: float = 600) -> str:
    deadline = time.monotonic() + limit
    while True:
        answer = page.request.get(f"{server.url}/api/jobs/{job_id}?tail=0")
        assert answer.ok, answer.text()
        status = str(answer.json()["status"])
        if status not in ("queued", "running"):
            return status
        assert time.monotonic() < deadline, f"job {job_id} still {status}"
        time.sleep(0.25)


def test_newcomer_walk(page: Any, server: Any, admin: Any) -> None:
    page.goto(server.url)
    expect(page.get_by_role("heading", name="Welcome — set up CloudLab Manager")).to_be_visible()
    page.get_by_label("Username").fill(admin["username"])
    page.get_by_label("Password", exact=True).fill(admin["password"])
    page.get_by_label("Vault password").fill(admin["vault_password"])
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # Deploy test-ubuntu from its card; the job opens and its lines arrive.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Services").click()
    card = page.locator("article[data-service='test-ubuntu']")
    expect(card).to_contain_text("testUbuntu")
    card.get_by_role("button", name="Deploy").click()
    expect(card.get_by_role("alertdialog")).to_contain_text("Deploy test-ubuntu?")
    card.get_by_role("button", name="Yes, deploy").click()
    expect(page).to_have_url(JOB_URL)
    job_id = int(JOB_URL.search(page.url).group(1))  # type: ignore[union-attr]
    expect(page.locator(".log-row").first).to_be_visible()
    expect_job_to_complete(page)
    expect(page.locator(".log")).to_contain_text("PLAY RECAP")
    expect(page.locator(".steps .step-completed").first).to_be_visible()
    assert page.locator(".steps .step-failed").count() == 0
    assert wait_for_job(page, server, job_id) == "completed"

    # The deployed instance in Instances (after a refresh of the inventory).
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator(".progress")).to_be_visible()
    expect(
        page.get_by_role("status").filter(has_text="Refreshing the inventory finished")
    ).to_be_visible(timeout=300_000)
    row = page.locator("tr[data-label='testUbuntu']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("mel")
    expect(row.locator("td[data-label='IP']")).to_have_text(re.compile(r"^127\.\d+\.\d+\.\d+$"))
    expect(row.locator("td[data-label='Power']")).to_have_text("running")

    # Stop all from the dashboard, with confirmation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_role("button", name="Stop all").click()
    page.get_by_role("button", name="Yes, stop all").click()
    link = page.locator(".notice-success a.job-link")
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(JOB_URL)
    expect_job_to_complete(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    expect(page.locator("tr[data-label='testUbuntu']")).to_have_count(0)


def test_instances_refresh_shows_progress_and_reloads_the_table(
    signed_in: Any, server: Any
) -> None:
    page = signed_in
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    expect(page.locator(".cache-info")).to_contain_text("Not refreshed yet")
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator(".progress")).to_contain_text("Refreshing the inventory")
    expect(page.get_by_role("button", name="Refresh")).to_be_disabled()
    expect(page.locator(".notice-success")).to_contain_text(
        "Refreshing the inventory finished", timeout=300_000
    )
    expect(page.locator(".cache-info")).to_contain_text("Cached")
    expect(page.get_by_role("button", name="Refresh")).to_be_enabled()


def test_stop_all_asks_first_and_starts_a_job(signed_in: Any, server: Any) -> None:
    page = signed_in
    page.get_by_role("button", name="Stop all").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Stop every instance of the lab?")
    # Cancel leaves everything as it was.
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    expect(page.get_by_role("button", name="Stop all")).to_be_focused()

    # Keyboard: Enter opens the confirmation with focus on its button, Escape closes it.
    page.get_by_role("button", name="Stop all").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Yes, stop all")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    expect(page.get_by_role("button", name="Stop all")).to_be_focused()

    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    link = page.locator(".notice-success a.job-link")
    expect(link).to_be_visible()
    job_id = int(link.inner_text().lstrip("job #"))
    assert wait_for_job(page, server, job_id) == "completed"
    expect(page.locator(f"tr[data-job-id='{job_id}']")).to_contain_text("completed")


def test_a_busy_service_names_the_job_in_the_way(
    page: Any, start_server: Any, make_lab: Any, set_up_admin: Any, console: Any, tmp_path: Path
) -> None:
    lab = make_lab({"slow": "echo working\nsleep 600\n"})
    server = start_server(CLM_LAB=str(lab), CLM_SANDBOX="false")
    set_up_admin(page, server)
    answer = page.request.post(
        f"{server.url}/api/services/slow/deploy", data={}, headers={"Origin": server.url}
    )
    job_id = int(answer.json()["job_id"])

    console.allow(r"status of 409 ")
    page.goto(f"{server.url}/#/services")
    card = page.locator("article[data-service='slow']")
    expect(card.locator(".active-job")).to_contain_text(f"job #{job_id}")
    # Deploy and Stop wait while the service is busy.
    expect(card.get_by_role("button", name="Deploy")).to_be_disabled()
    expect(card.get_by_role("button", name="Stop")).to_be_disabled()

    # Stop all needs the whole lab: the server refuses, naming the job in the way.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_role("button", name="Stop all").click()
    page.get_by_role("button", name="Yes, stop all").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Stop all was not started")
    expect(alert.get_by_role("link", name=f"Open job #{job_id}")).to_be_visible()
    page.request.post(
        f"{server.url}/api/jobs/{job_id}/cancel", data={}, headers={"Origin": server.url}
    )
