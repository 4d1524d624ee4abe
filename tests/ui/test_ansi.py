"""ansi.js: the SGR allow-list and the dropping of every other escape sequence.
Runs the module in Node when it is installed (the browser tests cover it too)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ANSI_JS = Path(__file__).resolve().parents[2] / "src/cloudlabmanager/ui/js/ansi.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run(function: str, line: str) -> Any:
    script = (
        f"import * as ansi from {json.dumps(ANSI_JS.as_uri())};\n"
        f"process.stdout.write(JSON.stringify(ansi.{function}(JSON.parse(process.argv[1]))));"
    )
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", script, json.dumps(line)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(out.stdout)


def test_plain_text_is_one_unstyled_segment() -> None:
    assert run("parseAnsi", "<b>plain</b> & text") == [
        {"text": "<b>plain</b> & text", "classes": []}
    ]


def test_allowed_sgr_codes_become_classes_and_reset_ends_them() -> None:
    segments = run("parseAnsi", "\x1b[1;31mbold red\x1b[0m plain \x1b[4;42;97mu\x1b[22;24;39;49mx")
    assert segments == [
        {"text": "bold red", "classes": ["ansi-bold", "ansi-fg-1"]},
        {"text": " plain ", "classes": []},
        {"text": "u", "classes": ["ansi-underline", "ansi-fg-15", "ansi-bg-2"]},
        {"text": "x", "classes": []},
    ]


def test_extended_colours_are_skipped_with_their_arguments() -> None:
    assert run("parseAnsi", "\x1b[38;5;196;1ma\x1b[48;2;1;2;3mb") == [
        {"text": "ab", "classes": ["ansi-bold"]},
    ]


@pytest.mark.parametrize(
    ("line", "visible"),
    [
        ("\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\ after", "link after"),
        ("\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07", "link"),
        ("title\x1b]0;new title\x07 kept", "title kept"),
        ("\x1b[2J\x1b[Hclear\x1b[?25l\x1b[K", "clear"),
        ("a\x1bPdevice control\x1b\\b", "ab"),
        ("bell\x07 back\x08space\rcarriage", "bell backspacecarriage"),
        ("tab\tkept", "tab\tkept"),
        ("\x9b31mC1 csi", "C1 csi"),
        ("cut at the end \x1b[", "cut at the end "),
        ("lone escape \x1b", "lone escape "),
    ],
)
def test_every_other_sequence_is_dropped(line: str, visible: str) -> None:
    assert "".join(s["text"] for s in run("parseAnsi", line)) == visible
    assert run("stripAnsi", line) == visible
