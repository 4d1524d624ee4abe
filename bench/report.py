"""BENCHMARKS.md: the machine, the date, the command, the figures, what changed."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Figure

CHANGES = """\
## What was changed in the engine, and what it gained

The "before" figures are from this suite during development, on the same
machine, with other engineers' test suites running (load average 5–8 on 2
cores); a pair of numbers is one change's before/after measured back to back.
"Full run 1" was a complete `python -m bench` after changes 1–4 (load 5–8),
"full run 2" one after changes 5–6 (load 2–3); the table above is a third
full run on the same code as run 2 (plus the event-callback baseline of
figure 6). Profiles: py-spy (`py-spy record -p <server pid> -f raw`) on the
server while the 1 000 000-line job ran.

1. **Output lines go straight to the driver** (`jobs/store.py` `append_lines`).
   The profile showed ¾ of the writer thread in SQLAlchemy's per-row parameter
   processing (`construct_params`, `_init_compiled`) of `insert(job_lines)`
   with a list of dicts. Now: one DB-API `executemany` of tuples on SQLite,
   `COPY … FROM STDIN` on PostgreSQL, in the same transaction as the
   `line_count` update. Ingest, SQLite, 1 M lines: **27 800 → 104 000 lines/s**
   (full run 1); max-rate live latency p99 (100 000 lines) 2 756 → 670 ms.
2. **The live window keeps the published batches; each batch's SSE text is
   rendered once** (`jobs/live.py`, `jobs/follow.py`, `api/jobs.py`). Before,
   every follower re-formatted every line (`id:`/`data:` f-strings and the
   CR/LF split) and the window held one tuple per line. Followers that keep
   up now receive the very batch objects the writer published, and the first
   follower's rendering is shared by all (slices are made only for a follower
   that resumes mid-batch). Fan-out, 100 clients at 10 000 lines/s, 20 000
   lines: p99 **3 675 → 949 ms** (with change 1, back to back).
3. **The writer lingers 25 ms between batches and its queue is 2 048 lines,
   not 50 000** (`jobs/sink.py`). At the maximum rate a line waits for the
   whole queue ahead of it: 50 000 lines are 0.5 s at 100 000 lines/s, 2 048
   are 20 ms. The linger caps inserts and live publishes at ~40 a second per
   job (AWX caps live updates at 30), so 100 followers wake 40 times a second,
   not once per pipe read; it is skipped as soon as the queue is full, so it
   costs no throughput. Max-rate latency p99: **670 → 190 ms** (dev run) and
   82 ms in full run 1; server RSS during the 1 M-line job: **+60 MB, still
   +59 MB after → +6 MB, +5 MB after**. Price: at 500 lines/s a line waits up
   to 25 ms more (figure 1a ≈ 28 ms).
4. **Job detail and output pages are encoded with one `json.dumps`**
   (`api/jobs.py`). `/output?limit=1000` built 1 000 pydantic `LineRead`
   models, which FastAPI then validated again. The routes keep their
   `response_model` (OpenAPI unchanged) and return the same JSON. Deep
   output page p99: SQLite **68 → 33 ms**, PostgreSQL **101 → 47 ms** (dev
   run with 1 M lines → full run 1 with 10 M lines).
5. **PostgreSQL output batches commit with `synchronous_commit = off`**
   (`SET LOCAL` in `append_lines` only), the equivalent of SQLite's
   `synchronous=NORMAL` that the project already uses: a crash of the database
   server can lose the last fraction of a second of output, never corrupt it;
   job state changes stay synchronous. Ingest, PostgreSQL, 1 M lines:
   **57 500 lines/s (full run 1) → 99 600 lines/s (full run 2)**; the machine
   was also quieter in run 2 (SQLite went 104 000 → 269 000 lines/s between the
   two runs with no SQLite change), so part of that gain is the load.
6. **SSE batches are encoded to bytes once** (`api/jobs.py`): Starlette
   encoded each follower's `str` chunk separately. Fan-out p99: 271 ms (full
   run 1) → 86 ms (full run 2), again with a quieter machine.
"""


# Why a goal can be missed on this machine, by figure key prefix; shown for misses only.
WHY_MISSED = {
    "1": "A line's latency at the maximum rate is the queue ahead of it (pipe, reader "
    "buffer, the writer's 2 048-line queue and the batch being stored) divided by the "
    "throughput; the child, the server and the client share 2 cores with other "
    "engineers' test suites, so throughput, and with it latency, falls with the load.",
    "2-pg": "PostgreSQL runs on the same 2 cores as the server, the job and the other "
    "test suites; every batch is one COPY plus a commit round trip. The bare "
    "executemany of the same rows ran at 45 000–119 000 lines/s across the full runs "
    "(bare COPY: see the baseline): the goal sits at this machine's limit.",
    "2": "The pipeline reads, splits and masks lines on the event loop and inserts them "
    "on a worker thread; both need the GIL and the CPU that the child printing the "
    "lines and the other test suites also use.",
    "3": "RSS returns to the allocator's high-water mark, not below it.",
    "4": "100 SSE clients run in one Python process that shares the 2 cores with the "
    "server, the job and other test suites; its figure is an upper bound (every line "
    "of a received chunk counts with the chunk's oldest line). With one client the "
    "same job's p99 is the baseline.",
    "5": "The bare SELECT takes at most 1–4 ms; the rest is the HTTP stack on one event loop "
    "(middleware, the session check's own queries, serialisation) and, above all, "
    "CPU contention: p99 of 100 requests is their second-slowest, and a time slice "
    "lost to another process shows up there (see the spread).",
    "6": "A 15-second deploy's wall time swings by ±20 % from run to run with the "
    "machine's load (see the spread of the bash runs themselves), more than the effect "
    "measured; the order alternates so drift hits both sides. What the job adds inside "
    "Ansible is ansible-runner's `awx_display` event callback (the structured per-host "
    "results of SPEC §4, as AWX does); the baseline column also times the script with "
    "that callback. The callback is outside this benchmark owner's files "
    "(jobs/ansible_events.py, jobs/runner.py).",
    "7": "The renderer shares 2 cores with the server, the job and other test suites: "
    "a task preempted by the OS is counted at its wall-clock length. The view's code "
    "(ui/js/views/job.js, logview.js) is outside this benchmark owner's files.",
    "8": "Start-up is dominated by importing the application (FastAPI, pydantic models, "
    "SQLAlchemy, alembic): `python -X importtime` shows 1.5–5 s depending on load; one "
    "item is `auth/passwords.py` hashing an argon2 dummy password at import "
    "(0.1–0.8 s). The database size does not matter (the empty-database baseline is "
    "as slow). Suggested outside these files: compute the dummy hash lazily, import "
    "the sandbox and Ansible helpers lazily.",
}


EARLIER = """\
## Goals at the edge: misses in earlier full runs

Full run 2 (the same code as this run, load 2–3) missed two goals; full run 1
(changes 1–4 only, load 5–8) missed six. Each is a figure whose margin is
smaller than what the machine's load does to it:

- **2-pg** ingest on PostgreSQL: 57 500 lines/s in run 1 (before change 5),
  99 600 in run 2 (spread 92 600–100 900), 104 400 in this run (97 600–133 700).
- **6** deploy overhead: 1.710 in run 1, 1.215 in run 2 (1.017–1.426), 1.006 in
  this run (0.849–1.082); the bash runs alone spread 13.6–20.0 s in this run.
- **4** fan-out: 271 ms in run 1 (before change 6), 86 ms in run 2, 74 ms now.
- **5-postgresql-tail**: 54.9 ms in run 1, 30.7 ms in run 2, 16.3 ms now.
- **7b** UI while streaming: longest task 124 ms in run 1, none over 50 ms since.
- **8-sqlite** start-up: 2.29 s in run 1 (empty database: 2.55 s), 1.26 s and
  1.20 s since.

Why, per figure, when it misses:
"""


def why(key: str) -> str:
    for prefix in sorted(WHY_MISSED, key=len, reverse=True):
        if key.startswith(prefix):
            return WHY_MISSED[prefix]
    return "—"


def machine(load_end: str) -> list[str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return [
        f"- CPU: {model}, `nproc` = {os.cpu_count()}",
        f"- Memory: {memory}",
        f"- OS: {platform.platform()}, Python {platform.python_version()}",
        f"- Load average (1, 5, 15 min) at start / end: {{load_start}} / {load_end}",
    ]


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def load_now() -> str:
    return _load()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(
    figures: list[Figure],
    *,
    command: str,
    began: datetime,
    seconds: float,
    load_start: str,
    load_end: str | None = None,
    commit_id: str | None = None,
) -> str:
    verdict = {True: "✅ met", False: "❌ missed", None: "—"}
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {began.astimezone(UTC):%Y-%m-%d %H:%M} UTC "
        f"(commit {commit_id or commit()}, {seconds / 60:.1f} min).",
        "",
        "## Machine",
        "",
        *[m.replace("{load_start}", load_start) for m in machine(load_end or _load())],
        "",
        "Every figure is the median of several runs, with their spread (min–max), its",
        "goal and a baseline measured in the same run. Load tests run only against",
        "127.0.0.1. Other engineers' test suites shared the machine: figures are",
        "noisy, and the spread says by how much.",
        "",
        "## Figures",
        "",
        "| # | figure | median | spread | goal | baseline (same run) | |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.key} | {_cell(f.title)} | {_cell(f.value)} | {_cell(f.spread)} | "
            f"{_cell(f.goal)} | {_cell(f.baseline)} | {verdict[f.met]} |"
        )
    notes = [(f.key, note) for f in figures for note in f.notes]
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {key}: {note}" for key, note in notes]
    missed = [f for f in figures if f.met is False]
    if missed:
        lines += ["", "## Goals missed in this run, and why", ""]
        lines += [f"- **{f.key}** ({f.value}, goal {f.goal}): {why(f.key)}" for f in missed]
    lines += ["", EARLIER]
    lines += [f"- **{key}**: {text}" for key, text in WHY_MISSED.items()]
    lines += ["", CHANGES]
    return "\n".join(lines) + "\n"
