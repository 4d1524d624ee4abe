"""lab/git.py: hostile URLs are refused before git runs; credentials never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudlabmanager.errors import StartupError
from cloudlabmanager.lab.git import GitError, GitRunner, check_git_url, redact_url
from tests.lab.labkit import git, make_remote, push_change

HOSTILE = [
    ("--upload-pack=touch /tmp/pwned", "starts with '-'"),
    ("-oProxyCommand=touch /tmp/pwned", "starts with '-'"),
    ("ext::sh -c touch% /tmp/pwned", "'<transport>::' form"),
    ("fd::17", "'<transport>::' form"),
    ("https://example.com/lab.git\n--upload-pack=x", "newline, NUL or control"),
    ("https://example.com/lab\x00.git", "newline, NUL or control"),
    ("ssh://-oProxyCommand=touch%20pwned/lab", "starting with '-'"),
    ("-oProxyCommand=x:lab", "starts with '-'"),
    ("git@-oProxyCommand=x:lab", "starting with '-'"),
    ("ssh://host:-oProxyCommand=x/lab", "starting with '-'"),
    ("ssh://-user@host/lab", "starting with '-'"),
    ("host:-lab", "starting with '-'"),
    ("gopher://example.com/lab", "unsupported scheme"),
    ("file:///etc", "uses file://"),
    ("", "empty"),
    (" https://example.com/lab.git", "surrounding blanks"),
    ("/no/such/directory", "neither"),
]


@pytest.mark.parametrize(("url", "reason"), HOSTILE)
def test_hostile_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(StartupError) as caught:
        check_git_url(url)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/org/lab.git",
        "ssh://git@github.com/org/lab.git",
        "git@github.com:org/lab.git",
        "git://example.com/lab",
    ],
)
def test_ordinary_urls_pass(url: str) -> None:
    assert check_git_url(url) == url


def test_file_urls_only_when_allowed() -> None:
    assert check_git_url("file:///srv/lab.git", allow_file=True) == "file:///srv/lab.git"


def test_credentials_in_urls_are_never_shown() -> None:
    url = "gopher://alice:s3cr3t-pw@example.com/lab.git"
    with pytest.raises(StartupError) as caught:
        check_git_url(url)
    assert "s3cr3t-pw" not in str(caught.value)
    assert redact_url("see https://alice:s3cr3t@h/x and ssh://bob@h/y") == (
        "see https://***@h/x and ssh://***@h/y"
    )


def test_environment_disables_prompts_hooks_and_foreign_config(tmp_path: Path) -> None:
    key = tmp_path / "key"
    env = GitRunner(path="/usr/bin:/bin", timeout=5, ssh_key=key, extra_env=(("X", "1"),)).env()
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_CONFIG_GLOBAL"] == "/dev/null"
    assert env["GIT_CONFIG_NOSYSTEM"] == "1"
    assert "file" not in env["GIT_ALLOW_PROTOCOL"].split(":")
    assert f"-i {key}" in env["GIT_SSH_COMMAND"]
    assert "IdentitiesOnly=yes" in env["GIT_SSH_COMMAND"]
    assert "StrictHostKeyChecking=accept-new" in env["GIT_SSH_COMMAND"]
    assert env["X"] == "1"


def test_hooks_of_a_cloned_repository_never_run(tmp_path: Path) -> None:
    bare, work = make_remote(tmp_path)
    marker = tmp_path / "hook-ran"
    runner = GitRunner(path="/usr/local/bin:/usr/bin:/bin", timeout=30, allow_file=True)
    dest = tmp_path / "clone"
    runner.clone(f"file://{bare}", dest)
    # Hooks planted in the checkout (as a hostile lab or a local user could) stay inert.
    for name in ("post-merge", "post-checkout", "reference-transaction"):
        hook = dest / ".git" / "hooks" / name
        hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
        hook.chmod(0o755)
    push_change(work, "services/web/main.yaml", "- hosts: web\n")
    before, after = runner.fast_forward(dest, f"file://{bare}")
    assert before != after
    runner.run(["checkout", "--quiet", "-b", "other"], cwd=dest, what="checkout")
    assert not marker.exists()
    git(dest, "checkout", "--quiet", "main")  # the same repository without our guard
    assert marker.exists()


def test_a_git_failure_names_the_operation_and_hides_credentials(tmp_path: Path) -> None:
    runner = GitRunner(path="/usr/local/bin:/usr/bin:/bin", timeout=30, allow_file=True)
    with pytest.raises(GitError) as caught:
        runner.clone(f"file://alice:pw-123456@localhost{tmp_path}/missing.git", tmp_path / "c")
    message = str(caught.value)
    assert "cloning" in message
    assert "pw-123456" not in message


def test_a_git_call_that_hangs_is_killed_at_the_timeout(tmp_path: Path) -> None:
    fifo_dir = tmp_path / "slow"
    fifo_dir.mkdir()
    slow = fifo_dir / "git-upload-pack-slow"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    runner = GitRunner(path="/usr/local/bin:/usr/bin:/bin", timeout=0.5, allow_file=True)
    bare, _ = make_remote(tmp_path)
    with pytest.raises(GitError) as caught:
        runner.run(
            ["clone", f"--upload-pack={slow}", "--", f"file://{bare}", str(tmp_path / "x")],
            cwd=tmp_path,
            what="slow clone",
        )
    assert "did not answer within" in str(caught.value)
