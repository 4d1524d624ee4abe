"""The step runner with real subprocesses that misbehave on purpose (fixtures/misbehave.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudlabmanager.jobs.output import MASK, SecretMasker
from cloudlabmanager.jobs.process_groups import kill_process_group
from cloudlabmanager.jobs.runner import StepCommand, StepOutcome, run_step

FIXTURE = Path(__file__).parent / "fixtures" / "misbehave.py"
BASE_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
SAFETY = 30.0  # only so a broken runner fails instead of hanging the suite


def command(cwd: Path, *args: str, env: dict[str, str] | None = None) -> StepCommand:
    return StepCommand(
        name="test-step",
        argv=[sys.executable, str(FIXTURE), *args],
        cwd=cwd,
        env={**BASE_ENV, **(env or {})},
    )


def process_state(pid: int) -> str | None:
    """The /proc state letter, or None if the pid is gone entirely (reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat[stat.rfind(")") + 2]


def is_running(pid: int) -> bool:
    return process_state(pid) not in (None, "Z", "X")


def live_group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                members.append(int(entry.name))
    return members


class Collector:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.pids: list[int] = []
        self._changed = asyncio.Event()

    @property
    def lines(self) -> list[str]:
        return [line for batch in self.batches for line in batch]

    async def on_lines(self, lines: list[str]) -> None:
        self.batches.append(lines)
        self._changed.set()

    async def on_started(self, pid: int) -> None:
        self.pids.append(pid)

    async def wait_for(self, text: str) -> None:
        async def seen() -> None:
            while not any(text in line for line in self.lines):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(seen(), SAFETY)


async def run(
    cmd: StepCommand,
    collector: Collector,
    *,
    masker: SecretMasker | None = None,
    cancel: asyncio.Event | None = None,
    grace: float = 2.0,
    deadline: float | None = None,
    max_line_bytes: int = 65536,
) -> StepOutcome:
    step = run_step(
        cmd,
        on_lines=collector.on_lines,
        on_started=collector.on_started,
        masker=masker or SecretMasker([]),
        max_line_bytes=max_line_bytes,
        cancel=cancel or asyncio.Event(),
        grace=grace,
        deadline=deadline,
    )
    return await asyncio.wait_for(step, SAFETY)


@pytest.fixture
def strays() -> Iterator[list[int]]:
    """Pids a test had to leave running on purpose; killed afterwards."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.parametrize("code", [0, 1, 3, 255])
async def test_exit_codes_are_reported(tmp_path: Path, code: int) -> None:
    collector = Collector()
    outcome = await run(command(tmp_path, "exit", str(code)), collector)
    assert outcome == StepOutcome(code, False, False, None, None)
    assert collector.lines == ["exiting"]
    assert process_state(collector.pids[0]) is None  # reaped, not a zombie


async def test_child_gets_own_group_cwd_devnull_stdin_and_exactly_the_given_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLM_SERVER_SECRET", "must-not-leak")
    collector = Collector()
    outcome = await run(command(tmp_path, "whoami", env={"CLM_GIVEN": "1"}), collector)
    assert outcome.exit_code == 0
    pid = collector.pids[0]
    assert collector.lines == [
        f"pid={pid} pgid={pid} sid={pid}",
        f"cwd={tmp_path}",
        "stdin=''",
        "env=CLM_GIVEN,LANG,PATH",
    ]


async def test_hostile_output_is_replaced_stripped_and_passed_through(tmp_path: Path) -> None:
    collector = Collector()
    outcome = await run(command(tmp_path, "hostile"), collector)
    assert outcome.exit_code == 0
    assert collector.lines == [
        "bad \ufffd\ufffd utf8",
        "win",
        "nulbyte",
        "data: x",
        "event: done",
        "id: 5",
        "\x1b[31mred\x1b[0m",
        "no final newline",
    ]


async def test_a_one_megabyte_line_is_cut_with_a_marker(tmp_path: Path) -> None:
    collector = Collector()
    outcome = await run(command(tmp_path, "bigline", str(1 << 20)), collector)
    assert outcome.exit_code == 0
    assert collector.lines == [
        "before",
        "x" * 65536 + " …[line cut: 1048576 bytes, 983040 omitted]",
        "after",
    ]


async def test_memory_stays_bounded_whatever_the_child_prints(tmp_path: Path) -> None:
    collector = Collector()
    tracemalloc.start()
    try:
        outcome = await run(command(tmp_path, "endless", "64"), collector)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.exit_code == 0
    [line] = collector.lines
    assert line.endswith(f" …[line cut: {64 << 20} bytes, {(64 << 20) - 65536} omitted]")
    assert peak < 8 << 20, f"peak {peak} bytes for 64 MB of output"


async def test_secrets_are_masked_even_with_metacharacters_and_url_encoding(
    tmp_path: Path,
) -> None:
    secret = "a$b*c(.&/ +%"
    collector = Collector()
    cmd = command(tmp_path, "secrets", env={"CLM_TEST_SECRET": secret})
    outcome = await run(cmd, collector, masker=SecretMasker([secret]))
    assert outcome.exit_code == 0
    assert collector.lines == [
        f"plain {MASK} end",
        f"url https://u:{MASK}@host/ end",
        f"form pw={MASK}&x=1",
        "clean line",
    ]


async def test_many_lines_arrive_in_order_in_batches_with_a_slow_consumer(
    tmp_path: Path,
) -> None:
    lines: list[str] = []
    calls = 0

    async def slow(batch: list[str]) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.002)  # the child must wait for us; nothing is dropped
        lines.extend(batch)

    async def started(pid: int) -> None:
        pass

    outcome = await asyncio.wait_for(
        run_step(
            command(tmp_path, "lines", "200000"),
            on_lines=slow,
            on_started=started,
            masker=SecretMasker(["never-printed"]),
            max_line_bytes=65536,
            cancel=asyncio.Event(),
            grace=1.0,
            deadline=None,
        ),
        SAFETY,
    )
    assert outcome.exit_code == 0
    assert lines == [f"line {i}" for i in range(200_000)]
    assert calls < 2000  # batched per chunk, not one call per line


async def test_missing_executable_is_an_outcome_not_an_exception(tmp_path: Path) -> None:
    collector = Collector()
    cmd = StepCommand("missing", ["clm-no-such-program", "x"], tmp_path, dict(BASE_ENV))
    outcome = await run(cmd, collector)
    assert outcome == StepOutcome(
        None, False, False, "clm-no-such-program: command not found on PATH", None
    )
    assert collector.pids == []
    cmd = StepCommand("missing", ["./nope.sh"], tmp_path, dict(BASE_ENV))
    assert (await run(cmd, collector)).error == "./nope.sh: no such file"
    cmd = StepCommand("missing", [sys.executable], tmp_path / "gone", dict(BASE_ENV))
    assert (await run(cmd, collector)).error == f"working directory not found: {tmp_path}/gone"


async def test_not_executable_file_is_reported(tmp_path: Path) -> None:
    script = tmp_path / "deploy.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    collector = Collector()
    cmd = StepCommand("script", ["./deploy.sh"], tmp_path, dict(BASE_ENV))
    outcome = await run(cmd, collector)
    assert outcome.exit_code is None
    assert outcome.error == "./deploy.sh: not executable"


async def test_cancel_ends_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    collector, cancel = Collector(), asyncio.Event()
    task = asyncio.create_task(
        run(command(tmp_path, "ignore-term"), collector, cancel=cancel, grace=0.5)
    )
    await collector.wait_for("ready")
    cancel.set()
    outcome = await task
    assert outcome == StepOutcome(-signal.SIGKILL, True, False, None, None)
    assert process_state(collector.pids[0]) is None


async def test_cancel_lets_a_sigterm_handler_finish_its_output(tmp_path: Path) -> None:
    collector, cancel = Collector(), asyncio.Event()
    task = asyncio.create_task(
        run(command(tmp_path, "term-handler"), collector, cancel=cancel, grace=10.0)
    )
    await collector.wait_for("ready")
    cancel.set()
    outcome = await task
    assert collector.lines == ["ready", "got SIGTERM, cleaning up"]
    assert outcome == StepOutcome(7, True, False, None, None)


async def test_cancel_before_start_starts_nothing(tmp_path: Path) -> None:
    collector, cancel = Collector(), asyncio.Event()
    cancel.set()
    outcome = await run(command(tmp_path, "exit", "0"), collector, cancel=cancel)
    assert outcome.cancelled and outcome.exit_code is None
    assert collector.pids == []


async def test_deadline_times_the_step_out(tmp_path: Path) -> None:
    collector = Collector()
    deadline = asyncio.get_running_loop().time() + 0.3
    outcome = await run(command(tmp_path, "sleep", "120"), collector, deadline=deadline)
    assert outcome == StepOutcome(-signal.SIGTERM, False, True, None, None)
    assert process_state(collector.pids[0]) is None


async def test_cancelling_the_task_kills_and_reaps_the_child(tmp_path: Path) -> None:
    collector = Collector()
    task = asyncio.create_task(run(command(tmp_path, "ignore-term"), collector, grace=60.0))
    await collector.wait_for("ready")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pid = collector.pids[0]
    assert process_state(pid) is None
    assert live_group_members(pid) == []


async def test_an_error_in_on_lines_kills_reaps_and_propagates(tmp_path: Path) -> None:
    pids: list[int] = []

    async def broken(lines: list[str]) -> None:
        raise RuntimeError("database is full")

    async def started(pid: int) -> None:
        pids.append(pid)

    with pytest.raises(RuntimeError, match="database is full"):
        await run_step(
            command(tmp_path, "ignore-term"),
            on_lines=broken,
            on_started=started,
            masker=SecretMasker([]),
            max_line_bytes=1024,
            cancel=asyncio.Event(),
            grace=30.0,
            deadline=None,
        )
    assert process_state(pids[0]) is None
    assert live_group_members(pids[0]) == []


async def test_grandchildren_that_outlive_the_script_are_ended(tmp_path: Path) -> None:
    collector = Collector()
    outcome = await run(command(tmp_path, "grandchildren"), collector, grace=0.5)
    assert outcome == StepOutcome(0, False, False, None, None)
    assert collector.lines.count("sleeper up") == 2
    [pids_line] = [line for line in collector.lines if line.startswith("pids=")]
    grandchildren = [int(pid) for pid in pids_line[5:].split(",")]
    assert not any(is_running(pid) for pid in grandchildren)  # one of them ignored SIGTERM
    assert live_group_members(collector.pids[0]) == []


async def test_a_detached_session_holding_the_pipe_cannot_hang_the_step(
    tmp_path: Path, strays: list[int]
) -> None:
    collector = Collector()
    outcome = await run(command(tmp_path, "daemon"), collector, grace=0.5)
    [daemon_line] = [line for line in collector.lines if line.startswith("daemon=")]
    daemon = int(daemon_line[7:])
    strays.append(daemon)
    assert outcome == StepOutcome(0, False, False, None, None)
    assert is_running(daemon)  # setsid'ed on purpose: not ours to kill
    assert os.getsid(daemon) == daemon != collector.pids[0]


async def test_a_child_that_closes_its_output_is_still_awaited(tmp_path: Path) -> None:
    collector = Collector()
    outcome = await run(command(tmp_path, "close-stdout", "0.5"), collector)
    assert outcome == StepOutcome(0, False, False, None, None)
    assert collector.lines == ["closing"]


def test_kill_process_group_ends_an_orphaned_group_and_tolerates_a_gone_one() -> None:
    child = subprocess.Popen(
        [sys.executable, str(FIXTURE), "ignore-term"],
        stdout=subprocess.PIPE,
        start_new_session=True,
        env=BASE_ENV,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        kill_process_group(child.pid, 0.3)
        assert child.wait(timeout=SAFETY) == -signal.SIGKILL
        kill_process_group(child.pid, 0.3)  # already gone: no error
    finally:
        child.kill()
        child.wait()


def test_kill_process_group_ends_the_orphans_of_a_dead_leader() -> None:
    """What restart cleanup meets: the leader is gone, its group lives on."""
    leader = subprocess.Popen(
        [sys.executable, str(FIXTURE), "grandchildren"],
        stdout=subprocess.PIPE,
        start_new_session=True,
        env=BASE_ENV,
    )
    assert leader.stdout is not None
    line = b""
    while not line.startswith(b"pids="):
        line = leader.stdout.readline()
    assert leader.wait(timeout=SAFETY) == 0
    orphans = [int(pid) for pid in line[5:].decode().split(",")]
    assert all(is_running(pid) for pid in orphans)
    kill_process_group(leader.pid, 0.3)  # one of them ignores SIGTERM
    assert not any(is_running(pid) for pid in orphans)
    assert live_group_members(leader.pid) == []
    leader.stdout.close()
