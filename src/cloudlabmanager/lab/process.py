"""One bounded subprocess for the lab's own commands (git, startup actions).

argv lists only, never a shell; explicit cwd and env; a new process group so a
timeout reaches every child; the child is always reaped, whatever fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MAX_CAPTURE = 64 * 1024


class CommandTimeout(Exception):
    def __init__(self, program: str, timeout: float) -> None:
        super().__init__(f"{program} did not finish within {timeout:g} s and was killed")
        self.program = program
        self.timeout = timeout


class CommandMissing(Exception):
    def __init__(self, program: str) -> None:
        super().__init__(f"{program} was not found on PATH")
        self.program = program


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0


def _tail(data: bytes) -> str:
    return data[-MAX_CAPTURE:].decode("utf-8", errors="replace")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_command(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float
) -> Completed:
    """Run argv to completion; raises CommandTimeout or CommandMissing."""
    if not argv or any("\x00" in part for part in argv):
        raise ValueError("a command needs a program and no NUL bytes")
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        if not cwd.is_dir():
            raise
        raise CommandMissing(argv[0]) from exc
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # Also reaches helpers that hold the pipes after the leader exited (ssh, a RUN's children).
        _kill_group(proc)
        proc.communicate()
        # Not "from exc": TimeoutExpired shows the whole argv, credentials in URLs included.
        raise CommandTimeout(argv[0], timeout) from None
    except BaseException:
        _kill_group(proc)
        proc.communicate()
        raise
    return Completed(proc.returncode, _tail(stdout), _tail(stderr))
