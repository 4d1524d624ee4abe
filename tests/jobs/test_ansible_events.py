"""Structured Ansible results from a real `ansible-playbook` run through the runner."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

from cloudlabmanager.jobs.ansible_events import (
    EventMarkerFilter,
    HostResult,
    RecapRow,
    ansible_event_env,
    callback_plugin_dir,
    read_results,
)
from cloudlabmanager.jobs.output import MASK, SecretMasker
from cloudlabmanager.jobs.runner import StepCommand, run_step

VENV_BIN = Path(sys.executable).parent
SECRET = "v@ult$pw*(.x"
PLAYBOOK = """
- name: Demo play
  hosts: all
  gather_facts: false
  tasks:
    - name: ok task
      ansible.builtin.ping:
    - name: changed task
      ansible.builtin.command: "true"
    - name: failing task
      ansible.builtin.fail:
        msg: "bad token {{ lookup('env', 'CLM_TEST_SECRET') }}"
      ignore_errors: true
    - name: skipped task
      ansible.builtin.debug:
        msg: never
      when: false
"""
INVENTORY = """
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
    ghost:
      ansible_connection: ssh
      ansible_host: 127.0.0.1
      ansible_port: 1
      ansible_timeout: 3
      ansible_ssh_common_args: "-o ConnectTimeout=3 -o StrictHostKeyChecking=no"
"""
SLOW_PLAYBOOK = """
- name: Slow play
  hosts: localhost
  gather_facts: false
  tasks:
    - name: first
      ansible.builtin.debug:
        msg: first
    - name: wait
      ansible.builtin.command: sleep 120
"""


def lab(tmp_path: Path, playbook: str = PLAYBOOK) -> Path:
    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    (lab_dir / "play.yml").write_text(playbook)
    (lab_dir / "inventory.yml").write_text(INVENTORY)
    return lab_dir


def ansible_command(lab_dir: Path, tmp_path: Path) -> StepCommand:
    home = tmp_path / "home"
    home.mkdir()
    return StepCommand(
        name="playbook",
        argv=["ansible-playbook", "-i", "inventory.yml", "play.yml"],
        cwd=lab_dir,
        env={
            "PATH": f"{VENV_BIN}:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
            "CLM_TEST_SECRET": SECRET,
        },
        ansible_events=True,
    )


def test_event_env_loads_the_awx_display_callback(tmp_path: Path) -> None:
    assert (callback_plugin_dir() / "awx_display.py").is_file()
    env = ansible_event_env(tmp_path, {"ANSIBLE_STDOUT_CALLBACK": "yaml"})
    assert env == {
        "ANSIBLE_CALLBACK_PLUGINS": str(callback_plugin_dir()),
        "ANSIBLE_STDOUT_CALLBACK": "awx_display",
        "AWX_ISOLATED_DATA_DIR": str(tmp_path),
        "ORIGINAL_STDOUT_CALLBACK": "yaml",
    }


def test_marker_filter_removes_event_markers_only() -> None:
    markers = EventMarkerFilter()
    raw = "\x1b[KeyJ1dWlkIjogIjEifQ==\x1b[20D\x1b[K\x1b[Ke30=\x1b[4D\x1b[Kok: [host]"
    assert markers.strip([raw, "\x1b[31mred\x1b[0m", ""]) == [
        "ok: [host]",
        "\x1b[31mred\x1b[0m",
        "",
    ]
    assert markers.strip_last(["\x1b[Ke30=\x1b[4D\x1b[K"]) == []


def test_read_results_of_an_empty_or_missing_directory(tmp_path: Path) -> None:
    results = read_results(tmp_path, SecretMasker([]))
    assert results.hosts == [] and results.recap == []


@pytest.mark.ansible
async def test_playbook_results_recap_and_cleanup(tmp_path: Path) -> None:
    lab_dir = lab(tmp_path)
    events_root = tmp_path / "events"
    events_root.mkdir()
    seen_dirs: list[tuple[Path, int]] = []
    lines: list[str] = []

    async def on_lines(batch: list[str]) -> None:
        lines.extend(batch)

    async def on_started(pid: int) -> None:
        seen_dirs.extend((d, d.stat().st_mode & 0o777) for d in events_root.iterdir())

    outcome = await asyncio.wait_for(
        run_step(
            ansible_command(lab_dir, tmp_path),
            on_lines=on_lines,
            on_started=on_started,
            masker=SecretMasker([SECRET]),
            max_line_bytes=65536,
            cancel=asyncio.Event(),
            grace=5.0,
            deadline=None,
            event_dir_root=events_root,
        ),
        120,
    )
    text = "\n".join(lines)
    assert outcome.exit_code == 4, text  # 4: a host was unreachable
    assert outcome.error is None
    # A private directory existed while the step ran, and is gone now.
    assert [mode for _, mode in seen_dirs] == [0o700]
    assert list(events_root.iterdir()) == []

    # The human output is there, without the callback's markers or the secret.
    assert "TASK [changed task]" in text and "PLAY RECAP" in text
    assert "\x1b[K" not in text
    assert SECRET not in text and f"bad token {MASK}" in text

    assert outcome.results is not None
    play = "Demo play"
    hosts = outcome.results.hosts
    [ghost] = [r for r in hosts if r.host == "ghost"]
    assert ghost.message is not None and "port 1" in ghost.message
    assert sorted(hosts, key=lambda r: (r.task or "", r.host)) == [
        HostResult(play, "changed task", "localhost", "changed", None),
        HostResult(play, "failing task", "localhost", "failed", f"bad token {MASK}", True),
        HostResult(play, "ok task", "ghost", "unreachable", ghost.message),
        HostResult(play, "ok task", "localhost", "ok", None),
        HostResult(play, "skipped task", "localhost", "skipped", None),
    ]
    tasks_in_order = list(dict.fromkeys(r.task for r in hosts))
    assert tasks_in_order == ["ok task", "changed task", "failing task", "skipped task"]

    recap = {row.host: row for row in outcome.results.recap}
    assert recap["ghost"] == RecapRow("ghost", 0, 0, 0, 1, 0, 0, 0)
    assert recap["localhost"] == RecapRow("localhost", 3, 1, 0, 0, 1, 0, 1)
    # ... and it says what Ansible printed.
    for host, row in recap.items():
        printed = re.search(rf"^{host}\s+: (.*)$", text, re.MULTILINE)
        assert printed is not None
        counts = dict(pair.split("=") for pair in printed.group(1).split())
        expected = {name: getattr(row, name) for name in counts}
        assert {k: int(v) for k, v in counts.items()} == expected


@pytest.mark.ansible
async def test_cancelled_playbook_keeps_partial_results_and_removes_events(
    tmp_path: Path,
) -> None:
    lab_dir = lab(tmp_path, SLOW_PLAYBOOK)
    events_root = tmp_path / "events"
    events_root.mkdir()
    cancel = asyncio.Event()

    async def on_lines(batch: list[str]) -> None:
        if any("TASK [wait]" in line for line in batch):
            cancel.set()

    async def on_started(pid: int) -> None:
        pass

    outcome = await asyncio.wait_for(
        run_step(
            ansible_command(lab_dir, tmp_path),
            on_lines=on_lines,
            on_started=on_started,
            masker=SecretMasker([]),
            max_line_bytes=65536,
            cancel=cancel,
            grace=5.0,
            deadline=None,
            event_dir_root=events_root,
        ),
        120,
    )
    assert outcome.cancelled
    assert outcome.results is not None
    assert [(r.task, r.status) for r in outcome.results.hosts] == [("first", "ok")]
    assert outcome.results.recap == []
    assert list(events_root.iterdir()) == []


@pytest.mark.ansible
async def test_adhoc_ansible_command_yields_results_too(tmp_path: Path) -> None:
    lab_dir = lab(tmp_path)
    base = ansible_command(lab_dir, tmp_path)
    command = StepCommand(
        "ready",
        ["ansible", "localhost", "-i", "inventory.yml", "-m", "ping"],
        lab_dir,
        base.env,
        True,
    )
    lines: list[str] = []

    async def on_lines(batch: list[str]) -> None:
        lines.extend(batch)

    async def on_started(pid: int) -> None:
        pass

    outcome = await asyncio.wait_for(
        run_step(
            command,
            on_lines=on_lines,
            on_started=on_started,
            masker=SecretMasker([]),
            max_line_bytes=65536,
            cancel=asyncio.Event(),
            grace=5.0,
            deadline=None,
        ),
        120,
    )
    assert outcome.exit_code == 0, lines
    assert any("localhost | SUCCESS" in line for line in lines)
    assert not any("\x1b[K" in line for line in lines)
    assert outcome.results is not None
    assert outcome.results.hosts == [HostResult(None, "ping", "localhost", "ok", None)]
    assert outcome.results.recap == [RecapRow("localhost", 1, 0, 0, 0, 0, 0, 0)]


async def test_ansible_missing_from_path_is_a_clear_error_and_leaves_no_dir(
    tmp_path: Path,
) -> None:
    lab_dir = lab(tmp_path)
    base = ansible_command(lab_dir, tmp_path)
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    command = StepCommand(base.name, base.argv, lab_dir, {**base.env, "PATH": str(empty_bin)}, True)
    events_root = tmp_path / "events"
    events_root.mkdir()

    async def ignore(_: object) -> None:
        pass

    outcome = await run_step(
        command,
        on_lines=ignore,
        on_started=ignore,
        masker=SecretMasker([]),
        max_line_bytes=65536,
        cancel=asyncio.Event(),
        grace=1.0,
        deadline=None,
        event_dir_root=events_root,
    )
    assert outcome.exit_code is None and outcome.results is None
    assert outcome.error == "ansible-playbook: command not found on PATH"
    assert list(events_root.iterdir()) == []
