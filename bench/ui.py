"""Figure 7: the Job view in headless chromium.

7a: navigation to the view of a finished job until its last line is visible: the
log row whose `data-line` is the job's last seq exists and lies inside the log's
visible box (job.js + logview.js render only the rows in view). The time is the
page's own `performance.now()` at that moment (origin: navigation start).
Baseline: the same for a 100-line job.

7b: responsiveness while a job streams 1 000 lines/s into the open view:
requestAnimationFrame gaps and long tasks (PerformanceObserver) over the stream,
against the same view left idle on a finished job for as long.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Figure, median, percentile, spread, sqlite_url
from bench.lab import BenchLab, EmitParams
from bench.server import ADMIN, Server, deploy, script_lab_env, wait_ended

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

LAST_LINE_VISIBLE = """(last) => {
  const row = document.querySelector(`.log-row[data-line="${last}"]`);
  const log = document.querySelector('.log');
  if (!row || !log) return false;
  const r = row.getBoundingClientRect(), b = log.getBoundingClientRect();
  if (r.height === 0 || r.bottom > b.bottom + 1 || r.top < b.top - 1) return false;
  return performance.now();
}"""

RESPONSIVENESS = """(() => {
  const probe = { gaps: [], longTasks: [], running: true };
  window.__probe = probe;
  let last = performance.now();
  const frame = (now) => {
    probe.gaps.push(now - last);
    last = now;
    if (probe.running) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) probe.longTasks.push(entry.duration);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) { probe.noLongTask = String(e); }
})();"""


@dataclass
class UiSize:
    big_lines: int
    stream_lines: int  # at 1 000 lines/s
    runs: int


FULL = UiSize(big_lines=100_000, stream_lines=10_000, runs=5)
QUICK = UiSize(big_lines=2_000, stream_lines=1_000, runs=1)


def _finished_job(server: Server, lab: BenchLab, lines: int) -> tuple[int, int]:
    lab.configure(EmitParams(lines, 0))
    with server.client() as client:
        job_id = deploy(client, "emit")
        job = wait_ended(client, job_id, timeout=600, poll=0.05)
    return job_id, int(job["line_count"])


def _time_to_last_line(context: Any, url: str, job_id: int, last: int) -> float:
    page = context.new_page()
    try:
        page.goto(f"{url}/#/jobs/{job_id}")
        handle = page.wait_for_function(LAST_LINE_VISIBLE, arg=last, polling="raf", timeout=60_000)
        return float(handle.json_value()) / 1000
    finally:
        page.close()


def _probe(context: Any, url: str, job_id: int, wait: Any) -> dict[str, Any]:
    page = context.new_page()
    try:
        page.add_init_script(RESPONSIVENESS)
        page.goto(f"{url}/#/jobs/{job_id}")
        page.wait_for_selector(".log", timeout=30_000)
        page.wait_for_timeout(1000)  # page load settled: measure the stream, not the load
        page.evaluate("() => { window.__probe.gaps = []; window.__probe.longTasks = []; }")
        wait(page)
        result: dict[str, Any] = page.evaluate(
            "() => { window.__probe.running = false; return window.__probe; }"
        )
        return result
    finally:
        page.close()


def run(work: Path, size: UiSize) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    data = work / "ui-data"
    data.mkdir(parents=True, exist_ok=True)
    lab = BenchLab(work / "lab")
    server = Server(script_lab_env(data, sqlite_url(data / "bench.db"), lab.root), work / "ui.log")
    with server, sync_playwright() as playwright:
        big, big_last = _finished_job(server, lab, size.big_lines)
        small, small_last = _finished_job(server, lab, 100)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        answer = context.request.post(
            f"{server.url}/api/auth/login",
            data={"username": ADMIN["username"], "password": ADMIN["password"]},
            headers={"Origin": server.url},
        )
        if not answer.ok:
            raise RuntimeError(f"browser login failed: {answer.status}")
        _time_to_last_line(context, server.url, small, small_last)  # warm: first load of the JS
        shown = [_time_to_last_line(context, server.url, big, big_last) for _ in range(size.runs)]
        tiny = [
            _time_to_last_line(context, server.url, small, small_last) for _ in range(size.runs)
        ]
        streaming, idle = [], []
        seconds = size.stream_lines / 1000
        for _ in range(max(1, size.runs - 2)):
            lab.configure(EmitParams(size.stream_lines, 1000, str(lab.go_path)))
            with server.client() as client:
                job_id = deploy(client, "emit")
                expected_last = size.stream_lines + 2

                def follow(page: Any, job_id: int = job_id, last: int = expected_last) -> None:
                    lab.go()
                    page.wait_for_function(
                        LAST_LINE_VISIBLE,
                        arg=last,
                        polling=200,
                        timeout=int(seconds * 1000) + 60_000,
                    )

                streaming.append(_probe(context, server.url, job_id, follow))
                wait_ended(client, job_id, timeout=120)
            idle.append(_probe(context, server.url, big, lambda page: time.sleep(seconds)))
        browser.close()
    return [_shown_figure(size, shown, tiny), _responsive_figure(size, streaming, idle)]


def _shown_figure(size: UiSize, shown: list[float], tiny: list[float]) -> Figure:
    value = median(shown)
    return Figure(
        key="7a",
        title=f"UI: navigation → last line visible, finished {size.big_lines:,}-line job",
        value=f"{value:.2f} s",
        spread=spread(shown, "{:.2f}") + " s",
        goal="≤ 2 s",
        baseline=f"the same view of a 100-line job: {median(tiny):.2f} s",
        met=value <= 2.0,
    )


def _stats(probes: list[dict[str, Any]]) -> tuple[float, float, float, int]:
    """median over runs of: p99 frame gap, max frame gap, max long task (ms); long tasks."""
    p99 = median([percentile(p["gaps"][1:], 99) for p in probes])
    worst = median([max(p["gaps"][1:], default=0.0) for p in probes])
    longest = median([max(p["longTasks"], default=0.0) for p in probes])
    count = int(median([len(p["longTasks"]) for p in probes]))
    return p99, worst, longest, count


def _responsive_figure(
    size: UiSize, streaming: list[dict[str, Any]], idle: list[dict[str, Any]]
) -> Figure:
    p99, worst, longest, count = _stats(streaming)
    i_p99, i_worst, i_longest, i_count = _stats(idle)
    return Figure(
        key="7b",
        title=(
            f"UI: responsiveness while a job streams 1 000 lines/s into the Job view "
            f"({size.stream_lines:,} lines, last line followed)"
        ),
        value=(
            f"frame gap p99 {p99:.0f} ms, max {worst:.0f} ms; longest task {longest:.0f} ms "
            f"({count} tasks > 50 ms)"
        ),
        spread=spread([percentile(p["gaps"][1:], 99) for p in streaming], "{:.0f}")
        + " ms frame-gap p99",
        goal="responsive: longest main-thread task ≤ 100 ms (input answered within 100 ms)",
        baseline=(
            f"idle view of a finished job: frame gap p99 {i_p99:.0f} ms, max {i_worst:.0f} ms; "
            f"longest task {i_longest:.0f} ms ({i_count} tasks > 50 ms)"
        ),
        met=longest <= 100,
    )
