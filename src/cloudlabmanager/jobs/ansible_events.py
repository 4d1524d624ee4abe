"""Structured Ansible results through ansible-runner's event callback (as AWX does).

`ansible-playbook` runs as an ordinary step (the runner keeps the process
group); the environment from `ansible_event_env` makes it load ansible-runner's
`awx_display` stdout callback, which prints the usual human output, wraps each
event's output in an invisible escape-encoded marker, and drops each event as a
JSON file into `<event dir>/job_events/`. `EventMarkerFilter` removes the
markers from the lines users see; `read_results` turns the files into
`AnsibleResults` once the step is over. The event directory holds module
results, so it is private (0700) and deleted after the step.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cloudlabmanager.jobs.output import SecretMasker

Status = Literal["ok", "changed", "failed", "unreachable", "skipped"]

MAX_MESSAGE_CHARS = 4000
# ansible-runner's own pattern (OutputEventFilter.EVENT_DATA_RE) for one marker.
_MARKER = re.compile(r"\x1b\[K(?:[A-Za-z0-9+/=]+\x1b\[\d+D)+\x1b\[K")
_MARKER_START = "\x1b[K"
_HOST_EVENTS: dict[str, Status | None] = {
    "runner_on_ok": None,  # ok or changed, from the result
    "runner_on_failed": "failed",
    "runner_on_async_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}
_STATS_KEYS = {
    "ok": "ok",
    "changed": "changed",
    "failures": "failed",
    "dark": "unreachable",
    "skipped": "skipped",
    "rescued": "rescued",
    "ignored": "ignored",
}


@dataclass
class HostResult:
    play: str | None
    task: str | None
    host: str
    status: Status
    message: str | None  # the failure message for failed/unreachable, masked
    ignored: bool = False  # failed, but the task had `ignore_errors`


@dataclass
class RecapRow:
    host: str
    ok: int
    changed: int
    failed: int
    unreachable: int
    skipped: int
    rescued: int
    ignored: int


@dataclass
class AnsibleResults:
    hosts: list[HostResult]
    recap: list[RecapRow]


def callback_plugin_dir() -> Path:
    """ansible-runner's callback directory (holds `awx_display.py`), without importing it."""
    spec = importlib.util.find_spec("ansible_runner")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("ansible-runner is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "display_callback" / "callback"


def make_event_dir(root: Path | None = None) -> Path:
    """A fresh private (0700) directory for one step's events."""
    return Path(tempfile.mkdtemp(prefix="clm-ansible-events-", dir=root))


def remove_event_dir(event_dir: Path) -> None:
    shutil.rmtree(event_dir, ignore_errors=True)


def ansible_event_env(
    event_dir: Path, base_env: dict[str, str], *, adhoc: bool = False
) -> dict[str, str]:
    """The variables to add to `base_env` so Ansible writes events to `event_dir`."""
    plugin_paths = [
        p for p in (base_env.get("ANSIBLE_CALLBACK_PLUGINS"), str(callback_plugin_dir())) if p
    ]
    env = {
        "ANSIBLE_CALLBACK_PLUGINS": ":".join(plugin_paths),
        "ANSIBLE_STDOUT_CALLBACK": "awx_display",
        "AWX_ISOLATED_DATA_DIR": str(event_dir),
    }
    original = base_env.get("ANSIBLE_STDOUT_CALLBACK")
    if original and original != "awx_display":
        env["ORIGINAL_STDOUT_CALLBACK"] = original  # awx_display wraps it
    if adhoc:
        env["ANSIBLE_LOAD_CALLBACK_PLUGINS"] = "1"
        env["AD_HOC_COMMAND_ID"] = "1"
    return env


class EventMarkerFilter:
    """Removes awx_display's event markers from output lines.

    A marker always precedes the text of the event it belongs to, so the
    blank lines of the normal output survive; only a final unterminated line
    made of markers alone is dropped (see `strip_last`).
    """

    def strip(self, lines: list[str]) -> list[str]:
        return [_MARKER.sub("", line) if _MARKER_START in line else line for line in lines]

    def strip_last(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        for line in lines:
            stripped = _MARKER.sub("", line) if _MARKER_START in line else line
            if stripped or not line:
                out.append(stripped)
        return out


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _failure_message(res: dict[str, Any]) -> str | None:
    message = _text(res.get("msg"))
    items = res.get("results")
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and (item.get("failed") or item.get("unreachable")):
                label = item.get("_ansible_item_label", item.get("item"))
                detail = _failure_message(item) or ""
                message = f"(item={_text(label)}) {detail}".strip()
                break
    stderr = res.get("stderr") or res.get("module_stderr")
    if isinstance(stderr, str) and stderr.strip():
        message = f"{message}: {stderr.strip()}" if message else stderr.strip()
    if message is not None and len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + " …"
    return message


def _host_result(event: dict[str, Any], masker: SecretMasker) -> HostResult | None:
    name = event.get("event")
    if name not in _HOST_EVENTS:
        return None
    data = event.get("event_data") or {}
    raw_res = data.get("res")
    res: dict[str, Any] = raw_res if isinstance(raw_res, dict) else {}
    status = _HOST_EVENTS[name] or ("changed" if res.get("changed") else "ok")
    message = _failure_message(res) if status in ("failed", "unreachable") else None

    def clean(value: object) -> str | None:
        text = _text(value)
        return None if text is None else masker.mask(text)

    return HostResult(
        play=clean(data.get("play")),
        task=clean(data.get("task")),
        host=clean(data.get("host")) or "",
        status=status,
        message=clean(message),
        ignored=status == "failed" and bool(data.get("ignore_errors")),
    )


def _recap(stats: dict[str, Any], masker: SecretMasker) -> list[RecapRow]:
    counts: dict[str, dict[str, int]] = {}
    for key, field in _STATS_KEYS.items():
        per_host = stats.get(key) or {}
        if isinstance(per_host, dict):
            for host, count in per_host.items():
                counts.setdefault(str(host), {})[field] = int(count)
    for host in stats.get("processed") or {}:
        counts.setdefault(str(host), {})
    return [
        RecapRow(host=masker.mask(host), **{f: row.get(f, 0) for f in _STATS_KEYS.values()})
        for host, row in sorted(counts.items())
    ]


def read_results(event_dir: Path, masker: SecretMasker) -> AnsibleResults:
    """Per-task/per-host results and the recap, from the event files (blocking I/O).

    Each file is reduced to what we keep as soon as it is read, so a long run
    with large module results never sits in memory whole.
    """
    found: list[tuple[str, str, HostResult]] = []
    recap: list[RecapRow] = []
    for path in (event_dir / "job_events").glob("*.json"):
        try:
            event = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError):
            continue  # a file cut short by a kill: skip it, keep the rest
        if not isinstance(event, dict):
            continue
        if event.get("event") == "playbook_on_stats":
            recap = _recap(event.get("event_data") or {}, masker)
            continue
        result = _host_result(event, masker)
        if result is not None:
            # Events are created one after another in the controller's main process.
            found.append((str(event.get("created", "")), str(event.get("uuid", "")), result))
    found.sort(key=lambda item: (item[0], item[1]))
    return AnsibleResults(hosts=[result for _, _, result in found], recap=recap)
