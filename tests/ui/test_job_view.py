"""The Job view on a lab of script services: live lines, cancel, hostile output,
a 100 000-line job, search, download, and resuming after a network drop."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WAIT_FOR = """
n=0
while [ ! -f {flag} ] && [ $n -lt 1200 ]; do sleep 0.1; n=$((n+1)); done
"""


def wait_script(flag: Path) -> str:
    return WAIT_FOR.format(flag=flag)


def script_lab_server(
    start_server: Callable[..., Any],
    make_lab: Callable[[dict[str, str]], Path],
    services: dict[str, str],
) -> Any:
    lab = make_lab(services)
    return start_server(CLM_LAB=str(lab), CLM_SANDBOX="false", LOCAL_MODE="true")


def job_status(page: Any, server: Any, job_id: int) -> str:
    answer = page.request.get(f"{server.url}/api/jobs/{job_id}?tail=0")
    assert answer.ok, answer.text()
    return str(answer.json()["status"])


def wait_for_job(page: Any, server: Any, job_id: int, limit: float = 300) -> str:
    deadline = time.monotonic() + limit
    while (status := job_status(page, server, job_id)) in ("queued", "running"):
        assert time.monotonic() < deadline, f"job {job_id} still {status}"
        time.sleep(0.2)
    return status


def wait_for_output(page: Any, server: Any, job_id: int, text: str, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while True:
        answer = page.request.get(f"{server.url}/api/jobs/{job_id}?tail=20")
        if answer.ok and text in answer.json()["output"]:
            return
        assert time.monotonic() < deadline, f"job {job_id} never printed {text!r}"
        time.sleep(0.2)


def deploy_from_services(page: Any, server: Any, service: str) -> int:
    page.goto(f"{server.url}/#/services")
    card = page.locator(f"article[data-service='{service}']")
    card.get_by_role("button", name="Deploy").click()
    card.get_by_role("button", name="Yes, deploy").click()
    expect(page).to_have_url(re.compile(r"#/jobs/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def log_texts(page: Any) -> list[str]:
    return list(page.locator(".log-row .log-text").all_inner_texts())


def test_lines_arrive_live_in_the_job_view(
    page: Any, start_server: Any, make_lab: Any, set_up_admin: Any, tmp_path: Path
) -> None:
    flag = tmp_path / "go"
    server = script_lab_server(
        start_server,
        make_lab,
        {
            "live": f"echo 'first line'\n{wait_script(flag)}\n"
            "echo 'second line'\necho 'last line'\n",
        },
    )
    set_up_admin(page, server)
    job_id = deploy_from_services(page, server, "live")

    log = page.locator(".log")
    expect(log).to_contain_text("first line")
    expect(page.locator("#job-status")).to_contain_text("running")
    expect(page.locator(".connection")).to_have_text("Live")
    assert "last line" not in log.inner_text()

    flag.touch()  # the script goes on only now: what follows must arrive through the stream
    expect(log).to_contain_text("last line")
    expect(page.locator("#job-status")).to_contain_text("completed")
    texts = log_texts(page)
    for line in ("first line", "second line", "last line"):
        assert texts.count(line) == 1, texts
    expect(page.locator("#cancel-job")).to_be_hidden()
    assert wait_for_job(page, server, job_id) == "completed"


def test_cancel_a_running_job_with_confirmation(
    page: Any, start_server: Any, make_lab: Any, set_up_admin: Any, tmp_path: Path
) -> None:
    server = script_lab_server(
        start_server,
        make_lab,
        {
            "slow": "echo 'working'\nsleep 600\necho 'never printed'\n",
        },
    )
    set_up_admin(page, server)
    job_id = deploy_from_services(page, server, "slow")
    expect(page.locator(".log")).to_contain_text("working")

    page.get_by_role("button", name="Cancel job").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(f"Cancel job #{job_id}?")
    page.get_by_role("button", name="Yes, cancel the job").click()

    expect(page.locator("#job-status")).to_contain_text("cancelled")
    expect(page.locator("#cancel-job")).to_be_hidden()
    assert wait_for_job(page, server, job_id) == "cancelled"
    assert "never printed" not in page.locator(".log").inner_text()


HOSTILE = r"""
printf '%s\n' '<script>window.__pwned = 1</script>'
printf '%s\n' '<img src=x onerror="window.__pwned = 2">'
printf '%s\n' '<a href="javascript:window.__pwned=3">click</a> &amp; &lt;b&gt;'
printf '\033[1;31mbold red\033[0m plain \033[4;42munder green\033[0m\n'
printf '\033]8;;https://evil.example/\033\\linked text\033]8;;\033\\ after\n'
printf 'title\033]0;pwned title\007 kept \033[2J\033[38;5;196mextended\033[0m\n'
echo 'DEPLOYMENT_ID=hostile-1'
"""


def test_hostile_output_is_shown_as_text_and_never_run(
    page: Any, start_server: Any, make_lab: Any, set_up_admin: Any
) -> None:
    server = script_lab_server(start_server, make_lab, {"evil": HOSTILE})
    set_up_admin(page, server)
    job_id = deploy_from_services(page, server, "evil")
    expect(page.locator("#job-status")).to_contain_text("completed")
    assert wait_for_job(page, server, job_id) == "completed"
    page.reload()  # once from the stream, once from the stored output
    expect(page.locator(".log")).to_contain_text("DEPLOYMENT_ID=hostile-1")

    log = page.locator(".log")
    expect(log).to_contain_text("<script>window.__pwned = 1</script>")
    expect(log).to_contain_text('<img src=x onerror="window.__pwned = 2">')
    expect(log).to_contain_text("&amp; &lt;b&gt;")
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".log script, .log img, .log a, .log iframe").count() == 0

    # The allow-listed SGR codes become classes; every other sequence is dropped.
    expect(log.locator(".ansi-bold.ansi-fg-1")).to_have_text("bold red")
    expect(log.locator(".ansi-underline.ansi-bg-2")).to_have_text("under green")
    text = log.inner_text()
    assert "\x1b" not in text and "\x07" not in text
    assert "linked text after" in text and "evil.example" not in text
    assert "title kept extended" in text and "pwned title" not in text
    assert page.title().endswith("CloudLab Manager")
    expect(page.locator(".summary")).to_contain_text("hostile-1")


def test_a_100000_line_job_shows_its_last_line_and_the_full_log(
    page: Any, start_server: Any, make_lab: Any, set_up_admin: Any
) -> None:
    server = script_lab_server(
        start_server,
        make_lab,
        {
            "big": "i=1; while [ $i -le 100000 ]; do\n"
            '  echo "line $i of the big job"; i=$((i+1))\n'
            "done\necho 'THE LAST LINE'\n",
        },
    )
    set_up_admin(page, server)
    answer = page.request.post(
        f"{server.url}/api/services/big/deploy", data={}, headers={"Origin": server.url}
    )
    assert answer.ok, answer.text()
    job_id = int(answer.json()["job_id"])
    assert wait_for_job(page, server, job_id, limit=600) == "completed"

    page.goto(f"{server.url}/#/jobs/{job_id}")
    last = page.locator(".log-row", has_text="THE LAST LINE")
    expect(last).to_be_visible()
    # Numbered by sequence: the server may add lines of its own around the script's.
    assert int(last.locator(".log-num").inner_text()) > 100_000
    # Only the rows in view exist in the page.
    assert page.locator(".log-row").count() < 200

    # The full log is a click away; search finds a line far from the end.
    page.get_by_role("button", name="Load the full log").click()
    expect(page.locator("#load-full-log")).to_be_hidden()
    page.get_by_label("Search the log").fill("line 17 of the big")
    page.get_by_label("Search the log").press("Enter")
    expect(page.locator(".match-info")).to_have_text("1 of 1")
    expect(page.locator(".log-row.is-current")).to_contain_text("line 17 of the big job")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download log").click()
    path = info.value.path()
    lines = Path(path).read_text().splitlines()
    assert "THE LAST LINE" in lines[-3:]
    assert lines.count("line 1 of the big job") == 1 and lines.count("THE LAST LINE") == 1
    assert sum(1 for line in lines if line.endswith(" of the big job")) == 100_000
    assert info.value.suggested_filename == f"job-{job_id}.log"


def test_the_stream_resumes_after_a_network_drop_without_losing_or_repeating_lines(
    page: Any,
    start_server: Any,
    make_lab: Any,
    set_up_admin: Any,
    tmp_path: Path,
    console: Any,
) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    server = script_lab_server(
        start_server,
        make_lab,
        {
            "drop": 'for i in 1 2 3; do echo "before $i"; done\n'
            f"{wait_script(first)}\n"
            'for i in 1 2 3; do echo "during $i"; done\n'
            f"{wait_script(second)}\n"
            'for i in 1 2 3; do echo "after $i"; done\n',
        },
    )
    set_up_admin(page, server)
    job_id = deploy_from_services(page, server, "drop")
    expect(page.locator(".log")).to_contain_text("before 3")

    console.allow(r"ERR_INTERNET_DISCONNECTED|net::ERR_")
    page.context.set_offline(True)
    first.touch()
    wait_for_output(page, server, job_id, "during 3")  # written while the browser is offline
    page.context.set_offline(False)
    expect(page.locator(".log")).to_contain_text("during 3")
    second.touch()
    expect(page.locator(".log")).to_contain_text("after 3")
    expect(page.locator("#job-status")).to_contain_text("completed")

    texts = log_texts(page)
    expected = [f"{w} {i}" for w in ("before", "during", "after") for i in (1, 2, 3)]
    assert [t for t in texts if t in expected] == expected
