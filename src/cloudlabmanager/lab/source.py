"""Where the lab comes from: a local directory, a git URL, or the bundled demo lab.

A git URL is cloned into `<data>/lab` on first boot and fast-forwarded on later
boots; the demo lab is copied there as a fresh repository once and then left
alone. New checkouts are built beside their final place and renamed into it, so
a crash never leaves a half lab that a later boot would take for a good one.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cloudlabmanager.config import BUNDLED_DEMO_LAB, Settings
from cloudlabmanager.errors import StartupError
from cloudlabmanager.lab.git import GitError, GitRunner, check_git_url, redact_url
from cloudlabmanager.lab.startup_actions import StartupOutcome
from cloudlabmanager.storage.secretbox import write_private_file

log = logging.getLogger("cloudlabmanager.startup")

LAB_CHECKOUT = "lab"


@dataclass(frozen=True)
class PreparedLab:
    directory: Path
    summary: str


def _is_local_dir(value: str) -> bool:
    if value.startswith("-") or any(ord(c) < 0x20 for c in value):
        return False
    return Path(value).expanduser().is_dir()


def _ssh_dir(settings: Settings) -> Path:
    path = settings.data_dir / "ssh"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _install_key(settings: Settings, key: Path) -> Path:
    """Copy git_key to a 0600 file of ours: ssh refuses keys others can read."""
    try:
        data = key.read_bytes()
    except OSError as exc:
        raise StartupError(
            f"the git_key file {key} cannot be read ({exc.strerror}); fix the path in "
            "the startup settings file"
        ) from None
    target = _ssh_dir(settings) / "lab_key"
    if not target.exists() or target.read_bytes() != data or target.stat().st_mode & 0o077:
        write_private_file(target, data)
    return target


def git_runner(settings: Settings, outcome: StartupOutcome) -> GitRunner:
    key = _install_key(settings, outcome.git_key) if outcome.git_key else None
    return GitRunner(
        path=settings.child_path,
        timeout=settings.git_timeout,
        ssh_key=key,
        known_hosts=_ssh_dir(settings) / "known_hosts",
        allow_file=settings.git_allow_file_urls,
        extra_env=tuple(outcome.env.items()),
    )


def _build_beside(checkout: Path) -> Path:
    checkout.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{checkout.name}-new-", dir=checkout.parent))


def _git_lab(settings: Settings, outcome: StartupOutcome, url: str) -> PreparedLab:
    check_git_url(url, allow_file=settings.git_allow_file_urls)
    checkout = settings.data_dir / LAB_CHECKOUT
    shown = redact_url(url)
    git = git_runner(settings, outcome)
    if not checkout.exists():
        staging = _build_beside(checkout)
        try:
            head = git.clone(url, staging / "repo")
            (staging / "repo").rename(checkout)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return PreparedLab(checkout.resolve(), f"cloned {shown} into {checkout} at {head}")
    if not (checkout / ".git").is_dir():
        raise StartupError(
            f"{checkout} exists but is not a git checkout; move it away so that {shown} "
            "can be cloned there"
        )
    origin = git.origin_url(checkout)
    if origin != url:
        raise StartupError(
            f"{checkout} is a checkout of {redact_url(origin or 'no remote')}, not of {shown}; "
            "move it away to clone the configured lab afresh"
        )
    try:
        before, after = git.fast_forward(checkout, url)
    except GitError as exc:
        # The lab we have still works; refusing to start would help nobody.
        log.warning("lab update failed, keeping the existing checkout: %s", exc)
        return PreparedLab(checkout.resolve(), f"kept {checkout} at {git.head(checkout)}")
    change = f"updated {before} -> {after}" if before != after else f"up to date at {after}"
    return PreparedLab(checkout.resolve(), f"{shown} in {checkout}: {change}")


def _demo_lab(settings: Settings, outcome: StartupOutcome, source: Path) -> PreparedLab:
    checkout = settings.data_dir / LAB_CHECKOUT
    if checkout.exists():
        return PreparedLab(checkout.resolve(), f"demo lab in {checkout}, left as it is")
    if not (source / "services").is_dir():
        raise StartupError(
            f"the bundled demo lab is missing from the package ({source}); reinstall "
            "cloudlabmanager or set CLM_LAB to your lab"
        )
    staging = _build_beside(checkout)
    try:
        repo = staging / "repo"
        shutil.copytree(
            source, repo, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        head = git_runner(settings, outcome).init_with_snapshot(
            repo, "The CloudLab Manager demo lab"
        )
        repo.rename(checkout)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PreparedLab(checkout.resolve(), f"demo lab copied into {checkout} at {head}")


def prepare_lab(
    settings: Settings, outcome: StartupOutcome, demo_source: Path = BUNDLED_DEMO_LAB
) -> PreparedLab:
    """Step 5: the lab directory this server drives, absolute."""
    configured = settings.lab or outcome.git_url
    if settings.lab and _is_local_dir(settings.lab):
        path = Path(settings.lab).expanduser().resolve()
        return PreparedLab(path, f"local directory {path}, used in place")
    if configured:
        return _git_lab(settings, outcome, configured)
    return _demo_lab(settings, outcome, demo_source)
