#!/usr/bin/env python3
"""Start a long-running process on a sandbox instance, the way a service would run on a VM.

    sandbox_daemon.py --disk DIR --name NAME -- COMMAND [ARG...]

The process runs in its own session (so the job runner's process-group cleanup
does not end it with the playbook), with stdin from /dev/null and its output in
DIR/log/NAME.log; its pid goes to DIR/run/NAME.pid, where the sandbox finds it
when the instance is halted or destroyed. A process already recorded under the
same name is stopped first, so deploying twice restarts the service.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def stop_previous(pidfile: Path, disk: Path) -> None:
    """Stop the process recorded in pidfile, if it still runs from this disk."""
    try:
        pid = int(pidfile.read_text(encoding="ascii").strip())
        working_dir = Path(os.readlink(f"/proc/{pid}/cwd"))
    except (OSError, ValueError):
        return
    if pid <= 1 or working_dir != disk.resolve():
        return  # the pid was reused by an unrelated process
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    for _ in range(50):
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disk", required=True, type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is required after --")
    run_dir, log_dir = args.disk / "run", args.disk / "log"
    run_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    pidfile = run_dir / f"{args.name}.pid"
    stop_previous(pidfile, args.disk)
    with (log_dir / f"{args.name}.log").open("ab") as log:
        child = subprocess.Popen(
            command,
            cwd=args.disk.resolve(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    temporary = pidfile.with_suffix(".tmp")
    temporary.write_text(f"{child.pid}\n", encoding="ascii")
    os.replace(temporary, pidfile)
    time.sleep(0.5)
    if child.poll() is not None:
        print(f"{args.name} exited at once with status {child.returncode}", file=sys.stderr)
        return 1
    print(f"{args.name} runs as pid {child.pid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
