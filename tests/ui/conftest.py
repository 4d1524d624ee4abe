"""Browser-test fixtures: the real server in a subprocess (fresh data dir per
test), Debian's chromium through Playwright, and a page that fails the test on
any console error or uncaught exception."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
ADMIN = {
    "username": "admin",
    "password": "correct horse battery staple",
    "vault_password": "demo-vault-password",
}
# Expected answers the browser logs as "Failed to load resource": the session
# probe before login (401) is part of normal navigation.
ALWAYS_ALLOWED = [re.compile(r"status of 401 .*?/api/auth/me$")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Origin": self.url}, timeout=30)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """start_server(**env) runs `python -m cloudlabmanager serve` with its own data dir."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**extra_env: str) -> Server:
        port = _free_port()
        data_dir = tmp_path / f"data-{len(started)}"
        data_dir.mkdir()
        log_path = tmp_path / f"server-{len(started)}.log"
        env = {
            **os.environ,
            "CLM_DATA_DIR": str(data_dir),
            "LOCAL_MODE": "true",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cloudlabmanager",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                cwd=tmp_path,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {process.returncode}:\n{log_path.read_text()}"
                )
            try:
                if httpx.get(f"{url}/api/auth/status", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        return Server(url=url, data_dir=data_dir, process=process, log_path=log_path)

    yield start
    for process in started:
        _stop(process)


@pytest.fixture
def server(start_server: Callable[..., Server]) -> Server:
    """The real server on the embedded default (the demo lab on the sandbox cloud)."""
    return start_server()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class ConsoleWatch:
    messages: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=lambda: list(ALWAYS_ALLOWED))

    def allow(self, pattern: str) -> None:
        """Expect a console error matching `pattern` (e.g. a 409 the test provokes)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self.allowed)]


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture
def page(browser: Any, console: ConsoleWatch) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(30_000)
    page = context.new_page()

    def on_console(message: Any) -> None:
        if message.type in ("error", "assert"):
            url = (message.location or {}).get("url", "")
            console.messages.append(f"{message.text} {url}".strip())

    page.on("console", on_console)
    page.on("pageerror", lambda error: console.messages.append(f"uncaught: {error}"))
    yield page
    context.close()
    problems = console.unexpected()
    assert not problems, f"console errors: {problems}"


def _set_up_admin(page: Any, server: Server) -> None:
    answer = page.request.post(
        f"{server.url}/api/auth/setup", data=ADMIN, headers={"Origin": server.url}
    )
    assert answer.ok, answer.text()


@pytest.fixture
def admin() -> dict[str, str]:
    return dict(ADMIN)


@pytest.fixture
def set_up_admin() -> Callable[[Any, Server], None]:
    """set_up_admin(page, server): first-boot setup through the API from the page's
    context, so the session cookie lands in the browser."""
    return _set_up_admin


@pytest.fixture
def signed_in(page: Any, server: Server) -> Any:
    """A page of a signed-in administrator on the demo-lab server, at the dashboard."""
    _set_up_admin(page, server)
    page.goto(f"{server.url}/#/dashboard")
    page.get_by_role("heading", name="Dashboard").wait_for()
    return page


@pytest.fixture
def make_lab(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """make_lab({name: deploy.sh text}): a CloudLab git repository of script services."""
    return lambda services: _make_lab(tmp_path, services)


def _make_lab(root: Path, services: dict[str, str]) -> Path:
    lab = root / "lab"
    for name, script in services.items():
        service = lab / "services" / name
        service.mkdir(parents=True)
        (service / "deploy.sh").write_text(script)
    (lab / "config.yml").write_text("domain_name: example.test\n")
    (lab / "init_playbook").mkdir()
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.test"]
    subprocess.run([*git, "init", "-q", "-b", "main", str(lab)], check=True)
    subprocess.run([*git, "-C", str(lab), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(lab), "commit", "-q", "-m", "lab"], check=True)
    return lab


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)
