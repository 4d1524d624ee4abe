"""A real sandbox per test: uvicorn on a free 127.0.0.1 port in a background thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from cloudlabmanager.sandbox import create_sandbox_app, sandbox_environment, stop_all_processes

API_KEY = "test-key"


@dataclass
class RunningSandbox:
    base_url: str
    state_dir: Path
    api_key: str

    @property
    def vultr_url(self) -> str:
        return self.base_url + "/vultr/v2"

    @property
    def cloudflare_url(self) -> str:
        return self.base_url + "/cloudflare/client/v4"

    def environment(self) -> dict[str, str]:
        return sandbox_environment(self.base_url, self.state_dir, self.api_key)

    def vultr(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        return httpx.Client(base_url=self.vultr_url, headers=headers, timeout=30)

    def cloudflare(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        return httpx.Client(base_url=self.cloudflare_url, headers=headers, timeout=30)


@contextlib.contextmanager
def running_sandbox(state_dir: Path, faults: str | None = None) -> Iterator[RunningSandbox]:
    app = create_sandbox_app(state_dir, api_key=API_KEY, faults=faults)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.01)
    try:
        yield RunningSandbox(f"http://127.0.0.1:{port}", state_dir, API_KEY)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        # Whatever a failed test left running on an instance must not outlive it.
        stop_all_processes(state_dir)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path / "sandbox") as running:
        yield running


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[Callable[..., RunningSandbox]]:
    """Start sandboxes with chosen faults or on a given state dir; all stopped at teardown."""
    with contextlib.ExitStack() as stack:

        def start(faults: str | None = None, state_dir: Path | None = None) -> RunningSandbox:
            directory = state_dir or tmp_path / "sandbox"
            return stack.enter_context(running_sandbox(directory, faults))

        yield start
