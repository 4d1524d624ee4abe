"""Micro-benchmark: LineSplitter + SecretMasker on 1 000 000 lines (prints lines/s).

Run: .venv/bin/python bench/bench_output.py [--lines N] [--runs R]
Only the pipeline is measured: no subprocess, no database, no network.
"""

from __future__ import annotations

import argparse
import statistics
import time

from cloudlabmanager.jobs.output import LineSplitter, SecretMasker

CHUNK = 64 * 1024


SECRETS = ["v@ult$pw*(", "tok-3f9a8b7c6d5e4f3a2b1c", "https://x:p%40ss@h"]
ROW = "TASK [deploy] ok: [host-{:07d}] => changed=false \x1b[0;32mok\x1b[0m elapsed=0.004s\n"
HIT = "TASK [deploy] ok: [host-{:07d}] => token=tok-3f9a8b7c6d5e4f3a2b1c elapsed=0.004s\n"


def make_stream(lines: int, hit_every: int) -> bytes:
    rows = ((HIT if hit_every and i % hit_every == 0 else ROW).format(i) for i in range(lines))
    return "".join(rows).encode()


def run_once(stream: bytes) -> tuple[float, int]:
    masker = SecretMasker(SECRETS)
    splitter = LineSplitter(64 * 1024, masker=masker)
    count = 0
    start = time.perf_counter()
    for offset in range(0, len(stream), CHUNK):
        lines = splitter.feed(stream[offset : offset + CHUNK])
        lines = masker.mask_lines(lines)
        count += len(lines)
    count += len(masker.mask_lines(splitter.flush()))
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for label, hit_every in (("no secret in output", 0), ("a secret every 100th line", 100)):
        stream = make_stream(args.lines, hit_every)
        rates = []
        for _ in range(args.runs):
            elapsed, count = run_once(stream)
            if count != args.lines:
                raise SystemExit(f"lost lines: {count} != {args.lines}")
            rates.append(count / elapsed)
        print(
            f"LineSplitter+SecretMasker, {label}: {args.lines} lines, "
            f"{len(stream) / 1e6:.0f} MB, median {statistics.median(rates):,.0f} lines/s "
            f"(min {min(rates):,.0f}, max {max(rates):,.0f}, {args.runs} runs)"
        )


if __name__ == "__main__":
    main()
