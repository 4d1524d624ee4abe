"""Instance processes: halting, rebooting and deleting an instance stop what it started."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cloudlabmanager.sandbox import stop_all_processes
from cloudlabmanager.sandbox.processes import is_alive, stop_processes

DAEMON = Path(__file__).parents[2] / "src/cloudlabmanager/demo_lab/scripts/sandbox_daemon.py"


def start_daemon(disk: Path, name: str, *command: str) -> int:
    subprocess.run(
        [sys.executable, str(DAEMON), "--disk", str(disk), "--name", name, "--", *command],
        check=True,
        capture_output=True,
    )
    return int((disk / "run" / f"{name}.pid").read_text())


def new_instance(sandbox: Any) -> tuple[str, Path]:
    body = {"label": "vm", "plan": "vc2-1c-1gb", "region": "mel", "os_id": 2284}
    with sandbox.vultr() as client:
        instance_id: str = client.post("/instances", json=body).json()["instance"]["id"]
    return instance_id, sandbox.state_dir / "instances" / instance_id


def test_the_daemon_runs_in_its_own_session(sandbox: Any) -> None:
    _, disk = new_instance(sandbox)
    pid = start_daemon(disk, "sleeper", "sleep", "300")
    try:
        assert os.getsid(pid) == pid and os.getpgid(pid) == pid
        assert is_alive(pid)
    finally:
        stop_processes(disk)
    assert not is_alive(pid)


def test_halt_stops_processes_and_keeps_the_instance(sandbox: Any) -> None:
    instance_id, disk = new_instance(sandbox)
    first = start_daemon(disk, "one", "sleep", "300")
    second = start_daemon(disk, "two", "sleep", "300")
    with sandbox.vultr() as client:
        assert client.post(f"/instances/{instance_id}/halt").status_code == 204
        instance = client.get(f"/instances/{instance_id}").json()["instance"]
    assert not is_alive(first) and not is_alive(second)
    assert instance["power_status"] == "stopped" and disk.is_dir()
    assert not list((disk / "run").glob("*.pid"))


def test_bulk_halt_and_reboot_stop_processes(sandbox: Any) -> None:
    instance_id, disk = new_instance(sandbox)
    pid = start_daemon(disk, "one", "sleep", "300")
    with sandbox.vultr() as client:
        assert (
            client.post("/instances/reboot", json={"instance_ids": [instance_id]}).status_code
            == 204
        )
        assert not is_alive(pid)
        pid = start_daemon(disk, "one", "sleep", "300")
        assert (
            client.post("/instances/halt", json={"instance_ids": [instance_id]}).status_code == 204
        )
        missing = client.post("/instances/halt", json={"instance_ids": ["nope"]})
    assert not is_alive(pid)
    assert missing.status_code == 404


def test_delete_stops_a_child_that_ignores_sigterm_and_removes_the_disk(sandbox: Any) -> None:
    instance_id, disk = new_instance(sandbox)
    stubborn = start_daemon(disk, "stubborn", "sh", "-c", "trap '' TERM; sleep 300 & wait")
    with sandbox.vultr() as client:
        assert client.delete(f"/instances/{instance_id}").status_code == 204
    assert not is_alive(stubborn)
    assert not disk.exists()


def test_a_reused_pid_is_left_alone(sandbox: Any) -> None:
    instance_id, disk = new_instance(sandbox)
    (disk / "run").mkdir()
    pidfile = disk / "run" / "stale.pid"
    pidfile.write_text("1\n")
    an_hour_ago = time.time() - 3600
    os.utime(pidfile, (an_hour_ago, an_hour_ago))
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        pidfile.write_text(f"{stranger.pid}\n")
        os.utime(pidfile, (an_hour_ago, an_hour_ago))
        with sandbox.vultr() as client:
            assert client.post(f"/instances/{instance_id}/halt").status_code == 204
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_the_sandbox_never_signals_itself_or_its_parents(sandbox: Any) -> None:
    instance_id, disk = new_instance(sandbox)
    (disk / "run").mkdir()
    (disk / "run" / "me.pid").write_text(f"{os.getpid()}\n")
    (disk / "run" / "parent.pid").write_text(f"{os.getppid()}\n")
    (disk / "run" / "init.pid").write_text("1\n")
    with sandbox.vultr() as client:
        assert client.delete(f"/instances/{instance_id}").status_code == 204
    assert is_alive(os.getppid())


def test_a_second_start_replaces_the_first_process(sandbox: Any) -> None:
    _, disk = new_instance(sandbox)
    first = start_daemon(disk, "web", "sleep", "300")
    second = start_daemon(disk, "web", "sleep", "300")
    try:
        assert first != second and not is_alive(first) and is_alive(second)
    finally:
        stop_processes(disk)


def test_stop_all_processes_covers_every_instance(sandbox: Any) -> None:
    pids = [start_daemon(new_instance(sandbox)[1], "web", "sleep", "300") for _ in range(2)]
    assert sorted(stop_all_processes(sandbox.state_dir)) == sorted(pids)
    assert not any(is_alive(pid) for pid in pids)
    assert stop_all_processes(sandbox.state_dir / "nothing-here") == []
