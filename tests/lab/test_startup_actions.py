"""lab/startup_actions.py: the original's ENV/CLONE/RUN/RETURN files, without a shell."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from cloudlabmanager.config import Settings
from cloudlabmanager.errors import StartupError
from cloudlabmanager.lab.startup_actions import run_startup_actions, startup_dir
from tests.lab.labkit import git, make_remote, write

Build = Callable[..., Settings]


def _actions(settings: Settings, text: str) -> None:
    write(settings.data_dir / "startup_action.conf.yaml", text)


def test_no_file_means_nothing_to_do(lab_settings: Build) -> None:
    outcome = run_startup_actions(lab_settings())
    assert outcome.actions_run == 0
    assert outcome.settings_file is None


def test_an_original_file_clones_the_settings_repo_and_returns_its_settings(
    tmp_path: Path, lab_settings: Build
) -> None:
    bare, work = make_remote(tmp_path)
    # The original's layout: a settings repository with startup.conf.yaml and core settings.
    write(
        work / "startup.conf.yaml",
        "git_url: git@example.com:org/lab.git\n"
        "git_key: remote/key_lab\ncore_settings: remote/core.conf.yaml\n",
    )
    write(work / "core.conf.yaml", "dns_basename: example.org\n")
    git(work, "add", "--all")
    git(work, "commit", "--quiet", "-m", "settings")
    git(work, "push", "--quiet", "origin", "main")
    settings = lab_settings(CLM_GIT_ALLOW_FILE_URLS=True)
    _actions(
        settings,
        f"""
startup:
  - ENV CLOUDFLARE_API_TOKEN=tok-abcdef-123
  - ENV GREETING=hello world
  - CLONE file://{bare}
  - RUN sh -c 'printf "%s" "$GREETING" > greeting.txt'
  - RETURN remote/startup.conf.yaml
  - RUN touch never-reached
""",
    )
    outcome = run_startup_actions(settings)
    workdir = startup_dir(settings)
    assert (workdir / "remote" / "config.yml").is_file()
    assert (workdir / "greeting.txt").read_text() == "hello world"
    assert not (workdir / "never-reached").exists()
    assert outcome.env == {"CLOUDFLARE_API_TOKEN": "tok-abcdef-123", "GREETING": "hello world"}
    assert outcome.settings_file == workdir / "remote" / "startup.conf.yaml"
    assert outcome.git_url == "git@example.com:org/lab.git"
    assert outcome.git_key == workdir / "remote" / "key_lab"
    assert outcome.dns_basename == "example.org"

    # A second boot: the clone is updated in place, nothing else changes.
    again = run_startup_actions(settings)
    assert again.dns_basename == "example.org"


def test_shell_syntax_in_run_is_not_interpreted(tmp_path: Path, lab_settings: Build) -> None:
    pwned = tmp_path / "pwned"
    settings = lab_settings()
    _actions(
        settings,
        f"""
startup:
  - RUN echo hi; touch {pwned}
  - RUN echo $(touch {pwned}) && touch {pwned} | touch {pwned}
  - RUN echo `touch {pwned}` > {pwned}
""",
    )
    run_startup_actions(settings)
    assert not pwned.exists()


def test_a_failing_command_stops_startup_naming_file_line_and_hiding_secrets(
    lab_settings: Build,
) -> None:
    settings = lab_settings()
    _actions(
        settings,
        """
startup:
  - ENV API_TOKEN=very-secret-value
  - RUN sh -c 'echo "auth failed for very-secret-value" >&2; exit 3'
""",
    )
    with pytest.raises(StartupError) as caught:
        run_startup_actions(settings)
    message = str(caught.value)
    assert "startup_action.conf.yaml" in message
    assert "line 2" in message
    assert "exited with 3" in message
    assert "very-secret-value" not in message


def test_a_command_that_hangs_is_killed_at_the_timeout(lab_settings: Build) -> None:
    settings = lab_settings(CLM_STARTUP_ACTION_TIMEOUT=0.5)
    _actions(settings, "startup:\n  - RUN sleep 30\n")
    with pytest.raises(StartupError, match="did not finish within"):
        run_startup_actions(settings)


def test_secrets_never_reach_the_log(lab_settings: Build, caplog: pytest.LogCaptureFixture) -> None:
    settings = lab_settings()
    _actions(settings, "startup:\n  - ENV TOKEN=zz-secret-zz\n  - RUN echo zz-secret-zz\n")
    with caplog.at_level(logging.DEBUG):
        run_startup_actions(settings)
    assert "zz-secret-zz" not in caplog.text
    assert "TOKEN" in caplog.text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("startup:\n  - DELETE everything\n", "unknown action"),
        ("startup: RUN true\n", "must be a list"),
        ("startup:\n  - ENV 1BAD=x\n", "KEY=VALUE"),
        ("startup:\n  - RUN 'unbalanced\n", "cannot be split"),
        ("startup:\n  - CLONE --upload-pack=touch%20/tmp/x\n", "starts with '-'"),
        ("startup:\n  - CLONE ext::sh\n", "transport"),
        ("startup:\n  - RETURN missing.yaml\n", "does not exist"),
        ("- not a mapping\n", "must be a YAML mapping"),
        ("startup:\n  - !!python/object/apply:os.system ['true']\n", "could not determine"),
        ("startup:\n  - RUN no-such-program-clm\n", "not found"),
    ],
)
def test_malformed_files_stop_startup_with_the_reason(
    lab_settings: Build, text: str, reason: str
) -> None:
    settings = lab_settings()
    _actions(settings, text)
    with pytest.raises(StartupError) as caught:
        run_startup_actions(settings)
    assert reason in str(caught.value)


def test_core_settings_may_be_a_mapping(lab_settings: Build) -> None:
    settings = lab_settings()
    workdir = startup_dir(settings)
    write(workdir / "s.yaml", "core_settings:\n  dns_basename: inline.test\n")
    _actions(settings, "startup:\n  - RETURN s.yaml\n")
    assert run_startup_actions(settings).dns_basename == "inline.test"
