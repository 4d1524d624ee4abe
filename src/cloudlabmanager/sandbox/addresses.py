"""Loopback addresses for sandbox instances.

Linux routes all of 127.0.0.0/8 to the loopback interface, so a process can
bind 127.0.x.y without any setup. Each instance gets its own address, unique
among the instances of one state directory and free again once the instance is
deleted. Every state directory starts its search in its own block of
127.0.x.0/24 (chosen from a hash of the directory), so sandboxes of parallel
test runs rarely hand out the same address; 127.0.0.0/24 is never used.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from pathlib import Path

FIRST_BLOCK = 10
LAST_BLOCK = 254


class AddressesExhaustedError(Exception):
    """Every usable 127.0.x.y address is taken."""


def _block_order(state_dir: Path) -> list[int]:
    blocks = list(range(FIRST_BLOCK, LAST_BLOCK + 1))
    start = zlib.crc32(str(state_dir.resolve()).encode()) % len(blocks)
    return blocks[start:] + blocks[:start]


def allocate(state_dir: Path, taken: Iterable[str]) -> str:
    """The first address of this sandbox's search order that no instance holds."""
    used = set(taken)
    for block in _block_order(state_dir):
        for host in range(1, 255):
            address = f"127.0.{block}.{host}"
            if address not in used:
                return address
    raise AddressesExhaustedError("no free loopback address left for a sandbox instance")
