"""Builders for the lab tests: lab directories and real git repositories in tmp dirs."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

GIT_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_ALLOW_PROTOCOL": "file",
}

TEST_UBUNTU = {
    "keyLocation": "services/test-ubuntu/outputs/key",
    "name": "key",
    "temp_inventory": "services/test-ubuntu/outputs/temp_inventory.yaml",
    "instances": [
        {
            "label": "testUbuntu",
            "hostname": "test",
            "plan": "vc2-1c-1gb",
            "region": "mel",
            "os": "Ubuntu 24.04 LTS x64",
            "tags": ["test-ubuntu"],
        }
    ],
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def add_service(lab: Path, name: str, instance: dict[str, Any] | None = None) -> Path:
    directory = lab / "services" / name
    write(directory / "instance.yaml", yaml.safe_dump(instance or TEST_UBUNTU))
    write(directory / "main.yaml", "- hosts: all\n  tasks: []\n")
    return directory


def make_lab(root: Path) -> Path:
    """A lab following SPEC section 2: two services, docker-base, a script service."""
    write(root / "config.yml", "domain_name: lab.test\n")
    write(root / "init_playbook" / "start-instances.yaml", "- hosts: localhost\n")
    write(root / "services" / "docker-base" / "main.yaml", "- hosts: all\n")
    add_service(root, "test-ubuntu")
    web = dict(TEST_UBUNTU, instances=[dict(TEST_UBUNTU["instances"][0], label="web1")])
    web["temp_inventory"] = "services/web/outputs/temp_inventory.yaml"
    add_service(root, "web", web)
    write(root / "services" / "scripted" / "deploy.sh", "#!/bin/bash\necho deployed\n")
    (root / "inventory").mkdir(parents=True, exist_ok=True)
    return root


def make_remote(tmp: Path) -> tuple[Path, Path]:
    """A bare remote holding a lab, and the work tree that pushes to it."""
    work = make_lab(tmp / "work")
    bare = tmp / "remote.git"
    git(tmp, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    git(work, "init", "--quiet", "--initial-branch=main")
    git(work, "add", "--all")
    git(work, "commit", "--quiet", "-m", "lab")
    git(work, "remote", "add", "origin", str(bare))
    git(work, "push", "--quiet", "origin", "main")
    return bare, work


def push_change(work: Path, relative: str, text: str) -> str:
    write(work / relative, text)
    git(work, "add", "--all")
    git(work, "commit", "--quiet", "-m", f"change {relative}")
    git(work, "push", "--quiet", "origin", "main")
    return git(work, "rev-parse", "--short", "HEAD")
