"""Container mode: the links real CloudLab playbooks expect at `/` (SPEC section 2).

A link is made only where the path is free or already our link to the same
target; anything else there is left untouched and reported.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("cloudlabmanager.startup")

LINK_NAMES = (
    "config.yml",
    "services",
    "init_playbook",
    "scripts",
    "inventory",
    "inputs",
    "outputs",
)


def create_links(lab_dir: Path, root: Path) -> list[str]:
    """Link root/<name> -> lab_dir/<name>; returns the names that were skipped."""
    skipped: list[str] = []
    for name in LINK_NAMES:
        link, target = root / name, lab_dir / name
        if link.is_symlink():
            if os.readlink(link) == str(target):
                continue
            log.warning("%s is a link to %s, not to the lab; left alone", link, os.readlink(link))
            skipped.append(name)
            continue
        if link.exists():
            log.warning("%s already exists and is not our link; left alone", link)
            skipped.append(name)
            continue
        # A missing target (inventory/ before the first run) is fine: the link waits for it.
        link.symlink_to(target, target_is_directory=name != "config.yml")
    return skipped
