"""lab/source.py: local directory in place, git clone then fast-forward, demo lab copy."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from cloudlabmanager.config import BUNDLED_DEMO_LAB, Settings
from cloudlabmanager.errors import StartupError
from cloudlabmanager.lab.source import prepare_lab
from cloudlabmanager.lab.startup_actions import StartupOutcome
from tests.lab.labkit import git, make_lab, make_remote, push_change

Build = Callable[..., Settings]


def test_a_local_directory_is_used_in_place(lab_settings: Build, local_lab: Path) -> None:
    prepared = prepare_lab(lab_settings(), StartupOutcome())
    assert prepared.directory == local_lab.resolve()
    assert not (lab_settings().data_dir / "lab").exists()


def test_git_url_is_cloned_on_first_boot_and_fast_forwarded_later(
    tmp_path: Path, lab_settings: Build
) -> None:
    bare, work = make_remote(tmp_path)
    settings = lab_settings(CLM_LAB=f"file://{bare}", CLM_GIT_ALLOW_FILE_URLS=True)
    first = prepare_lab(settings, StartupOutcome())
    assert first.directory == (settings.data_dir / "lab").resolve()
    assert (first.directory / "services" / "test-ubuntu" / "instance.yaml").is_file()
    assert "cloned" in first.summary

    again = prepare_lab(settings, StartupOutcome())
    assert "up to date" in again.summary

    new_head = push_change(work, "services/web/main.yaml", "- hosts: web\n  tasks: []\n")
    updated = prepare_lab(settings, StartupOutcome())
    assert f"-> {new_head}" in updated.summary
    assert (
        (updated.directory / "services" / "web" / "main.yaml")
        .read_text()
        .startswith("- hosts: web")
    )
    assert git(updated.directory, "rev-parse", "--short", "HEAD") == new_head


def test_the_git_url_of_the_startup_settings_file_is_used(
    tmp_path: Path, lab_settings: Build
) -> None:
    bare, _ = make_remote(tmp_path)
    settings = lab_settings(CLM_LAB=None, CLM_GIT_ALLOW_FILE_URLS=True)
    prepared = prepare_lab(settings, StartupOutcome(git_url=f"file://{bare}"))
    assert (prepared.directory / "config.yml").is_file()


def test_an_unreachable_remote_on_restart_keeps_the_checkout(
    tmp_path: Path, lab_settings: Build
) -> None:
    bare, _ = make_remote(tmp_path)
    settings = lab_settings(CLM_LAB=f"file://{bare}", CLM_GIT_ALLOW_FILE_URLS=True)
    first = prepare_lab(settings, StartupOutcome())
    bare.rename(tmp_path / "gone.git")
    kept = prepare_lab(settings, StartupOutcome())
    assert kept.directory == first.directory
    assert kept.summary.startswith("kept")


def test_an_unreachable_remote_on_first_boot_stops_startup(
    tmp_path: Path, lab_settings: Build
) -> None:
    settings = lab_settings(CLM_LAB=f"file://{tmp_path}/missing.git", CLM_GIT_ALLOW_FILE_URLS=True)
    with pytest.raises(StartupError, match="cloning"):
        prepare_lab(settings, StartupOutcome())
    assert not (settings.data_dir / "lab").exists()
    assert [p.name for p in settings.data_dir.iterdir() if p.name.startswith(".lab")] == []


def test_a_checkout_of_another_url_is_not_reused(tmp_path: Path, lab_settings: Build) -> None:
    bare, _ = make_remote(tmp_path)
    settings = lab_settings(CLM_LAB=f"file://{bare}", CLM_GIT_ALLOW_FILE_URLS=True)
    prepare_lab(settings, StartupOutcome())
    other = lab_settings(CLM_LAB=f"file://{tmp_path}/elsewhere.git", CLM_GIT_ALLOW_FILE_URLS=True)
    with pytest.raises(StartupError, match="move it away"):
        prepare_lab(other, StartupOutcome())


@pytest.mark.parametrize(
    "value",
    [
        "--upload-pack=touch /tmp/pwned-clm",
        "ext::sh -c touch% /tmp/pwned-clm",
        "-oProxyCommand=touch /tmp/pwned-clm",
        "https://example.com/lab.git\n--upload-pack=x",
        "fd::3",
        "file:///etc",
    ],
)
def test_hostile_lab_values_are_refused_and_nothing_is_written(
    lab_settings: Build, value: str
) -> None:
    settings = lab_settings(CLM_LAB=value)
    settings.data_dir.mkdir(parents=True)
    with pytest.raises(StartupError):
        prepare_lab(settings, StartupOutcome())
    assert list(settings.data_dir.iterdir()) == []
    assert not Path("/tmp/pwned-clm").exists()


def test_git_key_is_copied_private_and_used(tmp_path: Path, lab_settings: Build) -> None:
    bare, _ = make_remote(tmp_path)
    key = tmp_path / "key_lab"
    key.write_text("not really a key\n")
    key.chmod(0o644)
    settings = lab_settings(CLM_LAB=f"file://{bare}", CLM_GIT_ALLOW_FILE_URLS=True)
    prepare_lab(settings, StartupOutcome(git_key=key))
    copied = settings.data_dir / "ssh" / "lab_key"
    assert copied.read_text() == "not really a key\n"
    assert stat.S_IMODE(copied.stat().st_mode) == 0o600


def test_a_missing_git_key_names_the_file(tmp_path: Path, lab_settings: Build) -> None:
    settings = lab_settings(CLM_LAB="https://example.invalid/lab.git")
    with pytest.raises(StartupError, match="key_missing"):
        prepare_lab(settings, StartupOutcome(git_key=tmp_path / "key_missing"))


def test_demo_lab_is_copied_once_as_a_fresh_repository(tmp_path: Path, lab_settings: Build) -> None:
    source = make_lab(tmp_path / "bundled")
    settings = lab_settings(CLM_LAB=None)
    first = prepare_lab(settings, StartupOutcome(), demo_source=source)
    assert (first.directory / "services" / "web" / "instance.yaml").is_file()
    assert git(first.directory, "status", "--porcelain") == ""
    assert git(first.directory, "rev-list", "--count", "HEAD") == "1"

    (first.directory / "services" / "web" / "main.yaml").write_text("# edited by the operator\n")
    (source / "config.yml").write_text("domain_name: changed.test\n")
    again = prepare_lab(settings, StartupOutcome(), demo_source=source)
    assert "left as it is" in again.summary
    assert (again.directory / "services" / "web" / "main.yaml").read_text().startswith("# edited")
    assert "lab.test" in (again.directory / "config.yml").read_text()


def test_the_bundled_demo_lab_is_a_lab(tmp_path: Path, lab_settings: Build) -> None:
    if not (BUNDLED_DEMO_LAB / "services").is_dir():
        pytest.skip("the demo lab is not in this checkout yet")
    prepared = prepare_lab(lab_settings(CLM_LAB=None), StartupOutcome())
    assert (prepared.directory / "services" / "test-ubuntu" / "instance.yaml").is_file()
    assert git(prepared.directory, "status", "--porcelain") == ""
