"""The processes a sandbox instance runs, and how they are stopped.

A service deployed onto a sandbox instance leaves one pidfile per long-running
process under the instance's disk, `<disk>/run/*.pid` (the demo lab's
`scripts/sandbox_daemon.py` does this). Halting, rebooting or deleting the
instance stops each of them: SIGTERM to its process group when it leads one
(it was started in its own session), else to the process alone, then SIGKILL
after a grace period. A pid whose process started after its pidfile was written
belongs to somebody else (the pid was reused) and is left alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

RUN_DIR = "run"
GRACE_SECONDS = 3.0
_POLL_SECONDS = 0.05
_CLOCK_SLACK_SECONDS = 2.0


def pidfiles(disk: Path) -> list[Path]:
    run_dir = disk / RUN_DIR
    if not run_dir.is_dir():
        return []
    return sorted(run_dir.glob("*.pid"))


def read_pid(pidfile: Path) -> int | None:
    try:
        text = pidfile.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and int(text) > 1 else None


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses.
    return raw[raw.rfind(")") + 2 :].split()


def is_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie awaiting its reaper."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text(encoding="ascii").splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def _started_at(pid: int) -> float | None:
    fields = _stat_fields(pid)
    if fields is None:
        return None
    ticks = int(fields[19])  # field 22 of stat: start time in clock ticks after boot
    return _boot_time() + ticks / os.sysconf("SC_CLK_TCK")


def _is_owned(pid: int, pidfile: Path) -> bool:
    started = _started_at(pid)
    if started is None:
        return False
    with contextlib.suppress(OSError):
        return started <= pidfile.stat().st_mtime + _CLOCK_SLACK_SECONDS
    return False


def _ancestors() -> set[int]:
    """This process and its parents: never signalled, whatever a pidfile says."""
    found: set[int] = set()
    pid = os.getpid()
    while pid > 1 and pid not in found:
        found.add(pid)
        fields = _stat_fields(pid)
        pid = int(fields[1]) if fields is not None else 0
    return found | {1}


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _reap_if_child(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _wait_gone(pids: list[int], deadline: float) -> list[int]:
    remaining = pids
    while remaining and time.monotonic() < deadline:
        for pid in remaining:
            _reap_if_child(pid)
        remaining = [pid for pid in remaining if is_alive(pid)]
        if remaining:
            time.sleep(_POLL_SECONDS)
    return remaining


def stop_processes(disk: Path, grace_seconds: float = GRACE_SECONDS) -> list[int]:
    """Stop every process recorded under `disk`; return the pids that were signalled."""
    targets: list[int] = []
    protected = _ancestors()
    for pidfile in pidfiles(disk):
        pid = read_pid(pidfile)
        if pid is not None and pid not in protected and is_alive(pid) and _is_owned(pid, pidfile):
            targets.append(pid)
        with contextlib.suppress(FileNotFoundError):
            pidfile.unlink()
    for pid in targets:
        _signal(pid, signal.SIGTERM)
    stubborn = _wait_gone(targets, time.monotonic() + grace_seconds)
    for pid in stubborn:
        _signal(pid, signal.SIGKILL)
    _wait_gone(stubborn, time.monotonic() + grace_seconds)
    return targets


def stop_all_processes(state_dir: Path) -> list[int]:
    """Stop the processes of every instance of a sandbox, e.g. when a test tears it down."""
    instances_dir = state_dir / "instances"
    if not instances_dir.is_dir():
        return []
    stopped: list[int] = []
    for disk in sorted(instances_dir.iterdir()):
        if disk.is_dir():
            stopped.extend(stop_processes(disk))
    return stopped
