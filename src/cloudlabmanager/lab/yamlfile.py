"""Reading YAML from the lab: size-capped, safe tags only, bombs and cycles refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

MAX_YAML_BYTES = 256 * 1024
MAX_NODES = 20_000
MAX_DEPTH = 64


class YamlFileError(Exception):
    """The file is missing, too large, not YAML, or too big once expanded."""


def read_limited(path: Path, max_bytes: int) -> bytes:
    """Read at most max_bytes (refusing larger files) without following a FIFO forever."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise YamlFileError(f"{path.name} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise YamlFileError(f"{path.name} is larger than {max_bytes // 1024} KiB")
    return data


def _check_expanded_size(value: Any) -> None:
    """Walk the loaded value counting every visit, so shared aliases count each time."""
    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise YamlFileError(f"more than {MAX_NODES} values once aliases are expanded")
        if depth > MAX_DEPTH:
            raise YamlFileError(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def load_yaml_text(text: bytes | str, name: str) -> Any:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise YamlFileError(f"{name}: {problem}{where}") from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise YamlFileError(f"{name}: cannot be read as YAML ({type(exc).__name__})") from None
    try:
        _check_expanded_size(value)
    except YamlFileError as exc:
        raise YamlFileError(f"{name}: {exc}") from None
    return value


def load_yaml_file(path: Path, max_bytes: int = MAX_YAML_BYTES) -> Any:
    try:
        data = read_limited(path, max_bytes)
    except FileNotFoundError:
        raise YamlFileError(f"{path.name} does not exist") from None
    except YamlFileError as exc:
        raise YamlFileError(str(exc)) from None
    except OSError as exc:
        raise YamlFileError(f"{path.name} cannot be read: {exc.strerror}") from None
    return load_yaml_text(data, path.name)
