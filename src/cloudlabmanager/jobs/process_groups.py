"""Process groups: is one still alive, is it still the one we started, and ending it.

Used by the runner while a step runs and at start-up to end what a dead server left.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

KILL_WAIT_SECONDS = 1.0  # SIGKILL sent: how long the group may take to finish dying
POLL_SECONDS = 0.05


def signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _has_live_member(pgid: int) -> bool:
    """True if a process of the group is alive; exited-but-unreaped ones do not count."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True  # no /proc: trust kill(0)
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat_file:
                stat = stat_file.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()  # state, ppid, pgrp, ...
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def group_is_alive(pgid: int) -> bool:
    if not signal_group(pgid, 0):
        return False
    return _has_live_member(pgid)


def process_start_ticks(pid: int) -> int | None:
    """When `pid` started, in clock ticks after boot (/proc/PID/stat field 22)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            stat = stat_file.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[19]) if len(fields) > 19 else None


def is_same_group(pgid: int, leader_started: int | None) -> bool:
    """False when the pgid now belongs to another process than the one recorded.

    While any member of a group lives, Linux does not hand its id out again, so a
    group whose leader is gone but members remain is still the recorded one.
    """
    if leader_started is None:
        return True
    current = process_start_ticks(pgid)
    return current is None or current == leader_started


def kill_process_group(pgid: int, grace: float) -> None:
    """SIGTERM a whole group, SIGKILL after `grace` s. Blocking: for startup or a thread."""
    if pgid <= 1 or not signal_group(pgid, 0):
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, KILL_WAIT_SECONDS)):
        signal_group(pgid, sig)
        end = time.monotonic() + wait
        while group_is_alive(pgid) and time.monotonic() < end:
            time.sleep(POLL_SECONDS)


async def await_group_end(pgid: int, until: float) -> bool:
    """Polls (processes give no event to wait on) until the group is gone or `until`."""
    loop = asyncio.get_running_loop()
    while await asyncio.to_thread(group_is_alive, pgid):
        if loop.time() >= until:
            return False
        await asyncio.sleep(POLL_SECONDS)
    return True


async def kill_group_now(pgid: int) -> None:
    """SIGKILL, then wait until the group is really gone (dying takes a moment)."""
    signal_group(pgid, signal.SIGKILL)
    await await_group_end(pgid, asyncio.get_running_loop().time() + KILL_WAIT_SECONDS)
