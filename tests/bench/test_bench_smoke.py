"""Every benchmark in its smallest configuration: the code works and loses nothing.

Timings are never asserted here (they live in BENCHMARKS.md); only correctness:
every line stored and delivered once, in order, every client served, the report
renders.
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import history, ingest, latency, output, ui, walltime
from bench.common import POSTGRES_ENV, Figure
from bench.report import render

pytestmark = pytest.mark.slow


def _clean(figures: list[Figure]) -> None:
    for figure in figures:
        assert figure.value != "error", figure
        assert not [n for n in figure.notes if n.startswith("PROBLEM")], figure


@pytest.fixture(autouse=True)
def _postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    """The PostgreSQL legs run when the test suite has a server, like the other tests."""
    url = os.environ.get("CLM_TEST_POSTGRES_URL")
    if url:
        monkeypatch.setenv(POSTGRES_ENV, url)
    else:
        monkeypatch.delenv(POSTGRES_ENV, raising=False)


def test_output_pipeline_counts_every_line() -> None:
    figures = output.run(output.QUICK)
    assert [f.key for f in figures] == ["0"]


def test_ingest_stores_every_line_in_order(tmp_path: Path) -> None:
    figures = ingest.run(tmp_path, ingest.QUICK)
    _clean(figures)
    stored = [f for f in figures if f.key.startswith("2")]
    assert stored and all("no line lost" in f.value for f in stored)
    assert any(f.key == "3" for f in figures)


def test_latency_and_fan_out_deliver_every_line_to_every_client(tmp_path: Path) -> None:
    figures = latency.standalone(tmp_path, latency.QUICK)
    _clean(figures)
    assert {f.key for f in figures} == {"1a", "1b", "4"}
    fan = next(f for f in figures if f.key == "4")
    assert "all lines, all clients" in fan.value


def test_history_fills_and_answers(tmp_path: Path) -> None:
    figures = history.run(tmp_path, history.QUICK)
    _clean(figures)
    keys = {f.key for f in figures}
    assert {"5-sqlite-list", "5-sqlite-tail", "5-sqlite-page", "8-sqlite"} <= keys


@pytest.mark.browser
def test_ui_shows_the_last_line_and_follows_a_stream(tmp_path: Path) -> None:
    if not Path(ui.CHROMIUM).exists():
        pytest.skip("no /usr/bin/chromium")
    pytest.importorskip("playwright.sync_api")
    figures = ui.run(tmp_path, ui.QUICK)
    assert [f.key for f in figures] == ["7a", "7b"]


@pytest.mark.ansible
def test_walltime_runs_the_job_and_the_plain_script(tmp_path: Path) -> None:
    if (
        shutil.which("ansible-playbook") is None
        and not (Path(sys.executable).parent / "ansible-playbook").exists()
    ):
        pytest.skip("ansible-playbook is not installed")
    figures = walltime.run(tmp_path, walltime.QUICK)
    assert [f.key for f in figures] == ["6"]


def test_report_renders_every_figure() -> None:
    figure = Figure("1a", "a | title", "1 ms", "1–2 ms", "≤ 2 ms", "pipe", True, ["note"])
    text = render(
        [figure],
        command="python -m bench",
        began=datetime.now(UTC),
        seconds=1,
        load_start="0.1 0.1 0.1",
    )
    assert "a \\| title" in text and "note" in text and "nproc" in text
