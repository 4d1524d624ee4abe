"""A lab whose script service `emit` prints numbered, time-stamped lines at a set rate.

Each line is `L<n> t=<µs since the epoch> <padding>`: the reader computes the
line's latency from the time stamp the child wrote just before printing it.
The child waits for a "go" file when told to, so that clients can connect first.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

SERVICE = "emit"
LINE_RE = re.compile(rb"L(\d+) t=(\d+)")
PAD = " ok: [host-01] => changed=false elapsed=0.004s msg=benchmark-output-line"

EMITTER = r"""
import json, os, sys, time

params = json.load(open(sys.argv[1]))
lines, rate, go, pad = params["lines"], params["rate"], params["go"], params["pad"]
if go:
    deadline = time.monotonic() + 120
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.005)
out = sys.stdout.buffer
now_us = lambda: time.time_ns() // 1000
if rate <= 0:  # as fast as possible, in blocks of 1000 lines
    for start in range(1, lines + 1, 1000):
        stop = min(lines, start + 999)
        t = now_us()
        out.write("".join(f"L{i} t={t}{pad}\n" for i in range(start, stop + 1)).encode())
    out.flush()
else:
    began = time.monotonic()
    sent = 0
    while sent < lines:
        due = min(lines, int((time.monotonic() - began) * rate) + 1)
        if due > sent:
            t = now_us()
            out.write("".join(f"L{i} t={t}{pad}\n" for i in range(sent + 1, due + 1)).encode())
            out.flush()
            sent = due
        time.sleep(max(0.0, began + (sent) / rate - time.monotonic()))
"""


@dataclass
class EmitParams:
    lines: int
    rate: float = 0.0  # lines per second; 0 = as fast as possible
    go: str = ""  # wait for this file to exist before printing
    pad: str = PAD


class BenchLab:
    """A lab directory used in place (CLM_LAB) by the server under test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        service = root / "services" / SERVICE
        service.mkdir(parents=True, exist_ok=True)
        (root / "init_playbook").mkdir(exist_ok=True)
        (root / "inventory").mkdir(exist_ok=True)
        (root / "config.yml").write_text("domain_name: bench.test\n")
        (service / "emit.py").write_text(EMITTER)
        (service / "deploy.sh").write_text(
            "exec python3 services/emit/emit.py services/emit/params.json\n"
        )
        self.params_path = service / "params.json"
        self.go_path = root / "go"

    def configure(self, params: EmitParams) -> None:
        self.go_path.unlink(missing_ok=True)
        self.params_path.write_text(json.dumps(asdict(params)))

    def go(self) -> None:
        self.go_path.touch()

    def spawn(self, params: EmitParams, python: str) -> subprocess.Popen[bytes]:
        """The same emitter as a plain child with a pipe: the baseline reader's source."""
        self.configure(params)
        return subprocess.Popen(
            [python, str(self.root / "services" / SERVICE / "emit.py"), str(self.params_path)],
            stdout=subprocess.PIPE,
            cwd=self.root,
        )


def expected_line(n: int, line: str) -> bool:
    """True if `line` is the emitter's line number `n`."""
    return line.startswith(f"L{n} t=") and line.endswith(PAD)
