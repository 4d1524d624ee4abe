"""lab/links.py: the container's compatibility links, only where the path is ours."""

from __future__ import annotations

import os
from pathlib import Path

from cloudlabmanager.lab.links import LINK_NAMES, create_links
from tests.lab.labkit import write


def test_links_are_made_and_a_second_run_changes_nothing(tmp_path: Path, local_lab: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    assert create_links(local_lab, root) == []
    for name in LINK_NAMES:
        assert os.readlink(root / name) == str(local_lab / name)
    assert (root / "services" / "web" / "main.yaml").is_file()
    before = {name: os.lstat(root / name).st_ino for name in LINK_NAMES}
    assert create_links(local_lab, root) == []
    assert {name: os.lstat(root / name).st_ino for name in LINK_NAMES} == before


def test_foreign_paths_are_left_alone(tmp_path: Path, local_lab: Path) -> None:
    root = tmp_path / "root"
    write(root / "scripts" / "mine.sh", "echo mine\n")
    os.symlink("/usr/share", root / "services")
    skipped = create_links(local_lab, root)
    assert sorted(skipped) == ["scripts", "services"]
    assert (root / "scripts" / "mine.sh").read_text() == "echo mine\n"
    assert os.readlink(root / "services") == "/usr/share"
    assert os.readlink(root / "inventory") == str(local_lab / "inventory")
