"""`cloudlabmanager doctor`: checks what the server needs and prints a table."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from cloudlabmanager.config import Settings

REQUIRED_COLLECTIONS = ("vultr.cloud", "community.general")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _run(argv: list[str]) -> tuple[int, str]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, str(exc)
    return done.returncode, (done.stdout or done.stderr).strip()


def _ansible(search_path: str) -> Check:
    path = shutil.which("ansible-playbook", path=search_path)
    if path is None:
        return Check("ansible-playbook", False, "not found on PATH: pip install ansible")
    code, out = _run([path, "--version"])
    first = out.splitlines()[0] if out else "no version output"
    return Check("ansible-playbook", code == 0, f"{first} ({path})")


def _git() -> Check:
    path = shutil.which("git")
    if path is None:
        return Check("git", False, "not found on PATH: apt-get install git")
    code, out = _run([path, "--version"])
    return Check("git", code == 0, out)


def _collections(search_path: str) -> list[Check]:
    path = shutil.which("ansible-galaxy", path=search_path)
    if path is None:
        return [
            Check(f"collection {c}", False, "ansible-galaxy not found")
            for c in REQUIRED_COLLECTIONS
        ]
    checks = []
    for name in REQUIRED_COLLECTIONS:
        code, out = _run([path, "collection", "list", name])
        found = code == 0 and name in out
        version = next((line.split()[-1] for line in out.splitlines() if line.startswith(name)), "")
        checks.append(Check(f"collection {name}", found, version or "not installed"))
    return checks


def _data_dir(settings: Settings) -> Check:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.data_dir):
            pass
    except OSError as exc:
        return Check("data dir", False, f"{settings.data_dir}: {exc}")
    return Check("data dir", os.access(settings.data_dir, os.W_OK), str(settings.data_dir))


def _database(settings: Settings) -> Check:
    from sqlalchemy import text

    from cloudlabmanager.storage.db import make_engine

    engine = make_engine(settings.effective_database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return Check("database", False, f"{engine.url.render_as_string()}: {exc}")
    finally:
        engine.dispose()
    return Check("database", True, engine.url.render_as_string())


def collect_checks(settings: Settings) -> list[Check]:
    # Look where job steps will look: the PATH the engine gives them.
    search_path = settings.job_path()
    probes: list[Callable[[], Check | list[Check]]] = [
        lambda: _ansible(search_path),
        _git,
        lambda: _collections(search_path),
        lambda: _data_dir(settings),
        lambda: _database(settings),
    ]
    checks: list[Check] = []
    for probe in probes:
        found = probe()
        checks.extend(found if isinstance(found, list) else [found])
    return checks


def run_checks(settings: Settings) -> int:
    checks = collect_checks(settings)
    width = max(len(c.name) for c in checks)
    for check in checks:
        print(f"{'ok ' if check.ok else 'FAIL'}  {check.name.ljust(width)}  {check.detail}")
    failed = [c for c in checks if not c.ok]
    print(f"\n{len(checks) - len(failed)} of {len(checks)} checks passed")
    return 1 if failed else 0
