"""The sandbox's persistent state: one JSON document in the state directory.

Every change happens inside `StateStore.transaction()`, which holds a thread
lock and an advisory file lock (so a `cloudlabmanager sandbox` process and a
server sharing one directory cannot lose each other's writes), reads the
document fresh, and writes it back atomically (temporary file, fsync,
`os.replace`) only when the block ends without an exception.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

State = dict[str, Any]

STATE_FILE = "state.json"
LOCK_FILE = "state.lock"
DEFAULT_ZONE = "lab.test"
SCHEMA_VERSION = 1


def empty_state() -> State:
    """The document of a new sandbox: no instances, the demo lab's zone."""
    zone_id = uuid.uuid4().hex
    return {
        "version": SCHEMA_VERSION,
        "instances": {},
        "ssh_keys": {},
        "zones": {zone_id: {"id": zone_id, "name": DEFAULT_ZONE}},
        "dns_records": {},
    }


class StateStore:
    """Serialised, atomic access to `<state_dir>/state.json`."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.instances_dir = self.instances_dir_of(state_dir)
        self._path = state_dir / STATE_FILE
        self._lock_path = state_dir / LOCK_FILE
        self._thread_lock = threading.Lock()
        self.instances_dir.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def instances_dir_of(state_dir: Path) -> Path:
        """Where the disks of a sandbox's instances live: `<instances_dir>/<id>`."""
        return state_dir / "instances"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock, self._lock_path.open("a") as lock_file:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def _load(self) -> State:
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty_state()
        loaded: State = json.loads(text)
        return loaded

    def _save(self, state: State) -> None:
        fd, tmp_name = tempfile.mkstemp(prefix=".state-", suffix=".tmp", dir=self.state_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(state, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, self._path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        """Yield the current state; write it back if the block succeeds."""
        with self._locked():
            state = self._load()
            yield state
            self._save(state)

    def read(self) -> State:
        """A consistent snapshot, for answers that change nothing."""
        with self._locked():
            return self._load()

    def ensure_initialised(self) -> None:
        """Create the state file on first start so the zone id stays stable."""
        with self._locked():
            if not self._path.exists():
                self._save(empty_state())
