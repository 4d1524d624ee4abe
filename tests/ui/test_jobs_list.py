"""The Jobs history (newest first, filters, paging) and the Dashboard counts."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def run_job(page: Any, server: Any, service: str) -> int:
    answer = page.request.post(
        f"{server.url}/api/services/{service}/deploy", data={}, headers={"Origin": server.url}
    )
    assert answer.ok, answer.text()
    job_id = int(answer.json()["job_id"])
    deadline = time.monotonic() + 120
    while page.request.get(f"{server.url}/api/jobs/{job_id}?tail=0").json()["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return job_id


def job_ids(page: Any) -> list[int]:
    return [
        int(x)
        for x in page.locator("tbody tr[data-job-id]").evaluate_all(
            "rows => rows.map(r => r.dataset.jobId)"
        )
    ]


def test_history_filters_paging_and_counts(
    page: Any, start_server: Any, make_lab: Any, set_up_admin: Any
) -> None:
    lab = make_lab({"good": "echo fine\n", "bad": "echo 'going wrong' >&2\nexit 3\n"})
    server = start_server(CLM_LAB=str(lab), CLM_SANDBOX="false")
    set_up_admin(page, server)
    ids = [run_job(page, server, s) for s in ("good", "bad", "good", "bad", "good")]

    page.goto(f"{server.url}/#/jobs")
    expect(page.locator("tbody tr[data-job-id]")).to_have_count(5)
    assert job_ids(page) == sorted(ids, reverse=True)

    page.get_by_label("Status").select_option("failed")
    expect(page).to_have_url(f"{server.url}/#/jobs?status=failed")
    expect(page.locator("tbody tr[data-job-id]")).to_have_count(2)
    for badge in page.locator("tbody .badge").all():
        expect(badge).to_have_attribute("data-status", "failed")

    page.get_by_role("link", name="Clear filters").click()
    page.get_by_label("Service").select_option("good")
    expect(page.locator("tbody tr[data-job-id]")).to_have_count(3)
    assert job_ids(page) == [ids[4], ids[2], ids[0]]

    # Paging, bookmarkable: two per page.
    page.goto(f"{server.url}/#/jobs?limit=2")
    expect(page.locator("tbody tr[data-job-id]")).to_have_count(2)
    seen = job_ids(page)
    page.get_by_role("button", name="Older →").click()
    expect(page.locator("tbody tr[data-job-id]").first).not_to_have_attribute(
        "data-job-id", str(seen[0])
    )
    seen += job_ids(page)
    page.get_by_role("button", name="Older →").click()
    expect(page.locator("tbody tr[data-job-id]").first).not_to_have_attribute(
        "data-job-id", str(seen[2])
    )
    seen += job_ids(page)
    assert seen == sorted(ids, reverse=True)
    page.get_by_role("link", name="← Newest").click()
    expect(page.locator("tbody tr[data-job-id]").first).to_have_attribute(
        "data-job-id", str(seen[0])
    )

    # The dashboard counts them.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.locator(".stat-completed .stat-value")).to_have_text("3")
    expect(page.locator(".stat-failed .stat-value")).to_have_text("2")
    expect(page.locator(".stat-running .stat-value")).to_have_text("0")

    # A failed job says which step failed and how.
    page.goto(f"{server.url}/#/jobs/{ids[1]}")
    expect(page.locator("#job-status")).to_contain_text("failed")
    expect(page.locator(".steps .step-failed")).to_contain_text("exit 3")
    expect(page.locator(".log")).to_contain_text("going wrong")
