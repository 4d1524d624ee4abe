"""One step = one subprocess in its own process group, read in chunks, always reaped.

The child's stdout and stderr share one pipe that we create ourselves, so we
decide when to stop reading it: a grandchild that keeps the pipe open can
never hang a step. Whatever happens (errors in callbacks, cancellation of the
calling task), the whole group is signalled and the child reaped before
`run_step` returns or raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cloudlabmanager.jobs import ansible_events as events
from cloudlabmanager.jobs.ansible_events import AnsibleResults
from cloudlabmanager.jobs.output import LineSplitter, SecretMasker
from cloudlabmanager.jobs.process_groups import (
    await_group_end,
    group_is_alive,
    kill_group_now,
    signal_group,
)

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
DRAIN_SECONDS = 1.0  # main process gone: how long the rest of the group may keep printing
PIPE_CLOSE_SECONDS = 1.0  # group gone: how long a detached holder may keep the pipe open
ABORT_GRACE_SECONDS = 1.0  # error or task cancelled: a short TERM window, then KILL

LinesCallback = Callable[[list[str]], Awaitable[None]]
StartedCallback = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class StepCommand:
    name: str
    argv: list[str]  # argv[0] is an executable name or path; never a shell string
    cwd: Path
    env: dict[str, str]  # the complete environment of the child
    ansible_events: bool = False  # collect structured results (ansible-playbook / ansible)


@dataclass
class StepOutcome:
    exit_code: int | None  # None: never started; negative: killed by that signal
    cancelled: bool
    timed_out: bool
    error: str | None
    results: AnsibleResults | None = None


def _preflight(command: StepCommand) -> str | None:
    if not command.argv:
        return f"step {command.name}: empty command"
    if not command.cwd.is_dir():
        return f"working directory not found: {command.cwd}"
    program = command.argv[0]
    if "/" in program:
        path = command.cwd / program  # an absolute path stays absolute
        if not path.is_file():
            return f"{program}: no such file"
        if not os.access(path, os.X_OK):
            return f"{program}: not executable"
    elif shutil.which(program, path=command.env.get("PATH", os.defpath)) is None:
        return f"{program}: command not found on PATH"
    return None


class _Pump:
    """Reads the pipe chunk by chunk and hands out masked lines, one batch per chunk."""

    def __init__(
        self,
        on_lines: LinesCallback,
        masker: SecretMasker,
        max_line_bytes: int,
        markers: events.EventMarkerFilter | None,
    ) -> None:
        self._on_lines = on_lines
        self._masker = masker
        self._splitter = LineSplitter(max_line_bytes, masker=masker)
        self._markers = markers
        self._reader = asyncio.StreamReader(limit=CHUNK_BYTES)  # pauses the pipe when full
        self._transport: asyncio.ReadTransport | None = None

    async def open(self, read_fd: int) -> None:
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        try:
            protocol = asyncio.StreamReaderProtocol(self._reader)
            loop = asyncio.get_running_loop()
            self._transport, _ = await loop.connect_read_pipe(lambda: protocol, pipe)
        except BaseException:
            pipe.close()
            raise

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def run(self) -> None:
        while chunk := await self._reader.read(CHUNK_BYTES):
            lines = self._splitter.feed(chunk)
            if lines:
                if self._markers is not None:
                    lines = self._markers.strip(lines)
                await self._on_lines(self._masker.mask_lines(lines))
        last = self._splitter.flush()
        if self._markers is not None:
            last = self._markers.strip_last(last)
        if last:
            await self._on_lines(self._masker.mask_lines(last))


async def _wait_for_exit(
    proc: asyncio.subprocess.Process,
    reader: asyncio.Task[None],
    cancel: asyncio.Event,
    deadline: float | None,
) -> Literal["exited", "cancelled", "timed_out"]:
    loop = asyncio.get_running_loop()
    exited = asyncio.ensure_future(proc.wait())
    cancelled = asyncio.ensure_future(cancel.wait())
    pending: set[asyncio.Future[Any]] = {exited, cancelled, reader}
    try:
        while True:
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            done, _ = await asyncio.wait(
                pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if exited in done:
                return "exited"
            if cancelled in done:
                return "cancelled"
            if reader in done:
                reader.result()  # an error from on_lines surfaces here
                pending.discard(reader)  # end of output, but the process lives on
            elif not done:
                return "timed_out"
    finally:
        exited.cancel()
        cancelled.cancel()


async def _stop_main(proc: asyncio.subprocess.Process, pgid: int, grace: float) -> float:
    """SIGTERM the group, SIGKILL if the main process outlives `grace`; returns grace's end."""
    loop = asyncio.get_running_loop()
    grace_end = loop.time() + grace
    signal_group(pgid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), timeout=grace)
    except TimeoutError:
        signal_group(pgid, signal.SIGKILL)
        await proc.wait()
    return grace_end


async def _settle(
    pgid: int, reader: asyncio.Task[None], drain: float, grace: float, grace_end: float | None
) -> None:
    """After the main process: let the output end, then end what is left of the group."""
    loop = asyncio.get_running_loop()
    if grace_end is None and not reader.done():
        await asyncio.wait({reader}, timeout=drain)
    if await asyncio.to_thread(group_is_alive, pgid):
        if grace_end is None:
            signal_group(pgid, signal.SIGTERM)
            grace_end = loop.time() + grace
        if not await await_group_end(pgid, grace_end):
            await kill_group_now(pgid)
    if not reader.done():
        await asyncio.wait({reader}, timeout=PIPE_CLOSE_SECONDS)
        if not reader.done():
            log.warning("step output pipe held open by a detached process; stopped reading")


async def _abort(
    proc: asyncio.subprocess.Process,
    pgid: int,
    pump: _Pump,
    reader: asyncio.Task[None] | None,
    grace: float,
) -> None:
    """Hard stop on an error or cancellation: close the pipe, TERM, KILL soon, reap."""
    pump.close()
    try:
        signal_group(pgid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), timeout=min(grace, ABORT_GRACE_SECONDS))
    finally:
        signal_group(pgid, signal.SIGKILL)
        if reader is not None:
            reader.cancel()  # its outcome no longer matters; retrieve it so it is not logged
            reader.add_done_callback(lambda task: task.cancelled() or task.exception())
        await proc.wait()
        await kill_group_now(pgid)


async def _run_process(
    command: StepCommand,
    env: dict[str, str],
    pump: _Pump,
    on_started: StartedCallback,
    cancel: asyncio.Event,
    grace: float,
    deadline: float | None,
    drain: float,
) -> StepOutcome:
    read_fd, write_fd = os.pipe()
    try:
        proc = await asyncio.create_subprocess_exec(
            *command.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=write_fd,
            stderr=asyncio.subprocess.STDOUT,
            cwd=command.cwd,
            env=env,
            start_new_session=True,  # pid == pgid: cancel reaches every descendant
        )
    except OSError as exc:
        os.close(read_fd)
        reason = exc.strerror or type(exc).__name__
        return StepOutcome(None, False, False, f"{command.argv[0]}: cannot start: {reason}")
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    pgid = proc.pid
    reader: asyncio.Task[None] | None = None
    try:
        await pump.open(read_fd)
        # Recorded before any output is read: a server that dies the moment a job has
        # printed must still find the job's process group on its next start.
        await on_started(pgid)
        reader = asyncio.create_task(pump.run())
        why = await _wait_for_exit(proc, reader, cancel, deadline)
        grace_end = None if why == "exited" else await _stop_main(proc, pgid, grace)
        await _settle(pgid, reader, drain, grace, grace_end)
        pump.close()
        await reader
    except BaseException:
        await _abort(proc, pgid, pump, reader, grace)
        raise
    return StepOutcome(proc.returncode, why == "cancelled", why == "timed_out", None)


async def run_step(
    command: StepCommand,
    *,
    on_lines: LinesCallback,
    on_started: StartedCallback,
    masker: SecretMasker,
    max_line_bytes: int,
    cancel: asyncio.Event,
    grace: float,
    deadline: float | None,
    drain: float = DRAIN_SECONDS,
    event_dir_root: Path | None = None,
) -> StepOutcome:
    """Runs one step to its end; see the module docstring for the guarantees."""
    if cancel.is_set():
        return StepOutcome(None, True, False, "cancelled before it started")
    if deadline is not None and asyncio.get_running_loop().time() >= deadline:
        return StepOutcome(None, False, True, "timed out before it started")
    problem = _preflight(command)
    if problem is not None:
        return StepOutcome(None, False, False, problem)
    if not command.ansible_events:
        pump = _Pump(on_lines, masker, max_line_bytes, None)
        return await _run_process(
            command, command.env, pump, on_started, cancel, grace, deadline, drain
        )
    event_dir = events.make_event_dir(event_dir_root)  # tiny; sync so it cannot leak on cancel
    try:
        adhoc = Path(command.argv[0]).name == "ansible"
        env = {**command.env, **events.ansible_event_env(event_dir, command.env, adhoc=adhoc)}
        pump = _Pump(on_lines, masker, max_line_bytes, events.EventMarkerFilter())
        outcome = await _run_process(command, env, pump, on_started, cancel, grace, deadline, drain)
        if outcome.exit_code is not None:
            try:
                outcome.results = await asyncio.to_thread(events.read_results, event_dir, masker)
            except Exception:  # the step's own result stands; only the details are lost
                log.exception("step %s: reading Ansible events failed", command.name)
        return outcome
    finally:
        # Shielded: the directory holds module results and must go even if we are cancelled.
        await asyncio.shield(asyncio.to_thread(events.remove_event_dir, event_dir))
