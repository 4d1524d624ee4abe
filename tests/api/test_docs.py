"""/docs: Swagger UI from the package renders the API under the strict CSP, offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.serverproc import running_server, server_env

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.mark.browser
def test_docs_page_shows_every_operation_without_errors(tmp_path: Path, lab_dir: Path) -> None:
    env = server_env(tmp_path / "data", CLM_LAB=str(lab_dir), LOCAL_MODE="true")
    with running_server(env, tmp_path / "server.log") as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        outside: list[str] = []
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(server.url) else None,
        )
        answer = page.goto(server.url + "/docs")
        assert (
            answer is not None
            and "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        )
        page.wait_for_selector(".opblock", timeout=30_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/api/jobs/{job_id}/stream" in paths and "/api/auth/setup" in paths
        assert problems == [] and outside == []
        browser.close()
