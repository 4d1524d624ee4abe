"""Hostile configuration at startup: refused with a clear message, nothing executed.

The lab URL and the startup actions file come from the operator's environment; a
value copied from a hostile source must never make git or a shell run a command.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cloudlabmanager.app import create_app
from cloudlabmanager.config import Settings
from cloudlabmanager.errors import StartupError
from tests.conftest import ADMIN


def _start(settings: Settings) -> str:
    """Start the app; the StartupError's message (the server must not start)."""
    with pytest.raises(StartupError) as caught, TestClient(create_app(settings)):
        pass
    return str(caught.value)


HOSTILE_LABS = [
    ("--upload-pack=touch {m}", "starts with '-'"),
    ("-oProxyCommand=touch {m}", "starts with '-'"),
    ("-c core.sshCommand=touch {m}", "starts with '-'"),
    ("ext::sh -c touch% {m}", "'<transport>::' form"),
    ("ext::sh -c 'touch {m}'", "'<transport>::' form"),
    ("fd::0", "'<transport>::' form"),
    ("ssh://-oProxyCommand=touch%20{m}/lab", "starting with '-'"),
    ("git@-oProxyCommand=touch%20{m}:lab", "neither"),
    ("git@-oProxyCommand=x:lab", "starting with '-'"),
    ("ssh://--upload-pack=touch%20{m}@host/lab", "starting with '-'"),
    ("file:///etc", "uses file://"),
    ("FILE:///etc", "uses file://"),
    ("https://example.com/lab.git\n--upload-pack=touch {m}", "newline, NUL or control"),
    ("https://example.com/lab.git\r-oProxyCommand=x", "newline, NUL or control"),
    ("https://example.com/lab.git\t", "surrounding blanks"),
    ("gopher://example.com/lab", "unsupported scheme"),
    ("/no/such/dir/$(touch {m})", "neither"),
]


@pytest.mark.parametrize(("lab", "reason"), HOSTILE_LABS, ids=[u for u, _ in HOSTILE_LABS])
def test_hostile_lab_urls_stop_startup_before_git_runs(
    make_settings: Callable[..., Settings], tmp_path: Path, lab: str, reason: str
) -> None:
    marker = tmp_path / "pwned"
    settings = make_settings(CLM_LAB=lab.format(m=marker))
    message = _start(settings)
    assert message.startswith("startup step 5 (lab source) failed: git URL ")
    assert reason in message
    assert not marker.exists()
    assert not (settings.data_dir / "lab").exists()
    assert [p.name for p in settings.data_dir.iterdir() if p.name.startswith(".lab")] == []


def test_a_credential_in_a_refused_url_is_never_shown(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(CLM_LAB="gopher://alice:Hunter2-secret@example.com/lab.git")
    message = _start(settings)
    assert "unsupported scheme" in message and "***@example.com" in message
    assert "Hunter2-secret" not in message + caplog.text


SHELL_LINES = [
    "RUN echo hi; touch {m}",
    "RUN echo `touch {m}`",
    "RUN echo $(touch {m})",
    "RUN echo hi && touch {m}",
    "RUN echo hi || touch {m}",
    "RUN echo hi | tee {m}",
    "RUN echo hi > {m}",
    "RUN echo $HOME ${{IFS}}touch {m}",
    "RUN echo hi & touch {m}",
    "RUN echo 'hi' \"$(touch {m})\"",
]


@pytest.mark.parametrize("line", SHELL_LINES)
def test_shell_syntax_in_startup_actions_is_never_interpreted(
    make_settings: Callable[..., Settings], tmp_path: Path, line: str
) -> None:
    """echo receives the shell syntax as arguments: the server starts, nothing else ran."""
    marker = tmp_path / "pwned"
    settings = make_settings()
    settings.data_dir.mkdir(parents=True)
    text = line.format(m=marker).replace("'", "''")
    (settings.data_dir / "startup_action.conf.yaml").write_text(f"startup:\n  - '{text}'\n")
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/auth/status").status_code == 200
    assert not marker.exists()
    workdir = settings.data_dir / "startup"
    assert sorted(p.name for p in workdir.iterdir()) == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("RUN $(touch {m})", "was not found on PATH"),
        ("RUN `touch {m}`", "was not found on PATH"),
        ("RUN ;touch {m}", "was not found on PATH"),
        ("RUN |touch {m}", "was not found on PATH"),
        ("RUN 'unbalanced touch {m}", "cannot be split"),
        ("CLONE --upload-pack=touch%20{m} x", "starts with '-'"),
        ("CLONE ext::sh%20-c%20touch%20{m}", "transport"),
        ("EXEC touch {m}", "unknown action"),
    ],
)
def test_startup_actions_that_would_need_a_shell_stop_startup(
    make_settings: Callable[..., Settings], tmp_path: Path, line: str, reason: str
) -> None:
    marker = tmp_path / "pwned"
    settings = make_settings()
    settings.data_dir.mkdir(parents=True)
    text = line.format(m=marker).replace("'", "''")
    (settings.data_dir / "startup_action.conf.yaml").write_text(f"startup:\n  - '{text}'\n")
    message = _start(settings)
    assert message.startswith("startup step 4 (startup actions) failed: ")
    assert "line 1" in message and reason in message
    assert not marker.exists()


@pytest.mark.parametrize("origins", ["*", "null", "https://ok.example,*", "evil.example"])
def test_wildcard_cors_origins_are_refused(
    make_settings: Callable[..., Settings], origins: str
) -> None:
    """With credentials allowed, '*' would hand every site the user's session."""
    with pytest.raises(ValueError, match="ALLOWED_ORIGINS entry"):
        make_settings(ALLOWED_ORIGINS=origins)


def test_an_allowed_origin_may_mutate_and_read_with_the_cookie(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(ALLOWED_ORIGINS="https://ui.example, https://other.example")
    with TestClient(create_app(settings)) as client:
        origin = {"Origin": "https://ui.example"}
        setup = client.post("/api/auth/setup", json=ADMIN, headers=origin)
        assert setup.status_code == 200
        assert setup.headers["access-control-allow-origin"] == "https://ui.example"
        evil = client.get("/api/auth/me", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in evil.headers
