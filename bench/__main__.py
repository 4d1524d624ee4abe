"""`python -m bench [--only latency,ingest,...] [--quick]`: run benchmarks, write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench import history, ingest, latency, output, ui, walltime
from bench.common import Figure
from bench.report import commit, load_now, render

REPO = Path(__file__).resolve().parent.parent
RECORD = Path(__file__).resolve().parent / "last_run.json"  # the figures, for --render

Bench = Callable[[Path, bool], list[Figure]]

BENCHES: dict[str, Bench] = {
    "output": lambda work, quick: output.run(output.QUICK if quick else output.FULL),
    "ingest": lambda work, quick: ingest.run(work, ingest.QUICK if quick else ingest.FULL),
    "latency": lambda work, quick: latency.standalone(
        work, latency.QUICK if quick else latency.FULL
    ),
    "ui": lambda work, quick: ui.run(work, ui.QUICK if quick else ui.FULL),
    "walltime": lambda work, quick: walltime.run(work, walltime.QUICK if quick else walltime.FULL),
    "history": lambda work, quick: history.run(work, history.QUICK if quick else history.FULL),
}


def run_selected(names: list[str], work: Path, *, quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    for name in names:
        began = time.perf_counter()
        print(f"== {name}", flush=True)
        try:
            found = BENCHES[name](work / name, quick)
        except Exception as exc:  # one broken benchmark must not hide the others
            traceback.print_exc()
            found = [Figure(name, f"{name} benchmark", "error", "—", "—", "—", False, [repr(exc)])]
        for figure in found:
            print(
                f"  {figure.key}: {figure.value} [{figure.spread}] goal {figure.goal}; "
                f"baseline {figure.baseline}",
                flush=True,
            )
        print(f"   ({time.perf_counter() - began:.0f} s)", flush=True)
        figures += found
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", help=f"comma-separated subset of: {','.join(BENCHES)}")
    parser.add_argument("--quick", action="store_true", help="smallest sizes: a smoke run")
    parser.add_argument(
        "--out", type=Path, help="report path (default: BENCHMARKS.md unless --quick/--only)"
    )
    parser.add_argument("--work", type=Path, help="scratch directory (default: a temporary one)")
    parser.add_argument(
        "--render",
        type=Path,
        nargs="?",
        const=RECORD,
        help="rewrite the report from a run's record (default bench/last_run.json); runs nothing",
    )
    args = parser.parse_args(argv)
    if args.render is not None:
        return rerender(args.render, args.out or REPO / "BENCHMARKS.md")
    names = list(BENCHES) if not args.only else [n.strip() for n in args.only.split(",")]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    names.sort(key=lambda n: list(BENCHES).index(n))
    out = args.out
    if out is None and not args.quick and not args.only:
        out = REPO / "BENCHMARKS.md"
    work = args.work or Path(tempfile.mkdtemp(prefix="clm-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    began, load_start, clock = datetime.now(UTC), load_now(), time.perf_counter()
    commit_id = commit()
    try:
        figures = run_selected(names, work, quick=args.quick)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    figures.sort(key=lambda f: _figure_order(f.key))
    command = "python -m bench" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:])
    )
    text = render(
        figures,
        command=command,
        began=began,
        seconds=time.perf_counter() - clock,
        load_start=load_start,
    )
    if out is not None:
        out.write_text(text)
        record = {
            "command": command,
            "began": began.isoformat(),
            "seconds": time.perf_counter() - clock,
            "load_start": load_start,
            "load_end": load_now(),
            "commit": commit_id,
            "figures": [asdict(f) for f in figures],
        }
        RECORD.write_text(json.dumps(record, ensure_ascii=False, indent=1))
        print(f"wrote {out}")
    else:
        print(text)
    return 0


def rerender(record_path: Path, out: Path) -> int:
    """BENCHMARKS.md again from a run's record (after editing the report's prose)."""
    record = json.loads(record_path.read_text())
    figures = [Figure(**f) for f in record["figures"]]
    text = render(
        figures,
        command=record["command"],
        began=datetime.fromisoformat(record["began"]),
        seconds=record["seconds"],
        load_start=record["load_start"],
        load_end=record["load_end"],
        commit_id=record.get("commit"),
    )
    out.write_text(text)
    print(f"wrote {out}")
    return 0


def _figure_order(key: str) -> tuple[int, str]:
    head = key.split("-")[0].rstrip("abcdefghijklmnopqrstuvwxyz")
    return (int(head) if head.isdigit() else 99, key)


if __name__ == "__main__":
    sys.exit(main())
