"""The real vultr.cloud modules the demo lab does not use, against the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKq3H2b7yG7o5Yk1y0jv9Pjz2i7iC0zC3bYH1s3Vv0aQ"

PLAYBOOK = [
    {
        "name": "Exercise vultr.cloud",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "tasks": [
            {"vultr.cloud.region_info": {}, "register": "regions"},
            {"vultr.cloud.plan_info": {}, "register": "plans"},
            {"vultr.cloud.os_info": {}, "register": "images"},
            {"vultr.cloud.ssh_key": {"name": "k", "ssh_key": PUBLIC_KEY + " one"}},
            {
                "vultr.cloud.ssh_key": {"name": "k", "ssh_key": PUBLIC_KEY + " two"},
                "register": "key_update",
            },
            {
                "vultr.cloud.instance": {
                    "label": "vm",
                    "hostname": "vm",
                    "plan": "vc2-1c-1gb",
                    "region": "mel",
                    "os": "Ubuntu 24.04 LTS x64",
                    "ssh_keys": ["k"],
                    "tags": ["one"],
                },
                "register": "created",
            },
            {
                "vultr.cloud.instance": {
                    "label": "vm",
                    "region": "mel",
                    "plan": "vc2-1c-1gb",
                    "tags": ["one", "two"],
                },
                "register": "retagged",
            },
            {
                "vultr.cloud.instance": {"label": "vm", "region": "mel", "state": "stopped"},
                "register": "stopped",
            },
            {
                "vultr.cloud.instance": {"label": "vm", "region": "mel", "state": "started"},
                "register": "started",
            },
            {
                "vultr.cloud.instance": {"label": "vm", "region": "mel", "state": "restarted"},
                "register": "restarted",
            },
            {"vultr.cloud.instance_info": {"label": "vm"}, "register": "listed"},
            {
                "vultr.cloud.instance": {"label": "vm", "region": "mel", "state": "absent"},
                "register": "deleted",
            },
            {"vultr.cloud.ssh_key": {"name": "k", "state": "absent"}, "register": "key_deleted"},
            {"vultr.cloud.instance_info": {}, "register": "after"},
            {
                "ansible.builtin.copy": {
                    "dest": "{{ playbook_dir }}/results.json",
                    "content": "{{ {'regions': regions, 'plans': plans, 'images': images,"
                    " 'key_update': key_update, 'created': created, 'retagged': retagged,"
                    " 'stopped': stopped, 'started': started, 'restarted': restarted,"
                    " 'listed': listed, 'deleted': deleted, 'key_deleted': key_deleted,"
                    " 'after': after} | to_json }}",
                }
            },
        ],
    }
]


@pytest.mark.ansible
def test_vultr_cloud_modules_work_unchanged(sandbox: Any, tmp_path: Path) -> None:
    playbook = tmp_path / "exercise.yaml"
    playbook.write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **sandbox.environment()}
    done = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), str(playbook)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = yaml.safe_load((tmp_path / "results.json").read_text())
    assert len(results["regions"]["vultr_region_info"]) == 12
    assert any(p["id"] == "vc2-1c-1gb" for p in results["plans"]["vultr_plan_info"])
    assert any(o["name"] == "Ubuntu 24.04 LTS x64" for o in results["images"]["vultr_os_info"])
    assert results["key_update"]["changed"] is True
    assert results["key_update"]["vultr_ssh_key"]["ssh_key"].endswith(" two")
    created = results["created"]["vultr_instance"]
    assert created["status"] == "active" and created["main_ip"].startswith("127.0.")
    assert results["retagged"]["changed"] is True
    assert results["retagged"]["vultr_instance"]["tags"] == ["one", "two"]
    assert results["stopped"]["vultr_instance"]["power_status"] == "stopped"
    assert results["started"]["vultr_instance"]["power_status"] == "running"
    assert results["restarted"]["changed"] is True
    assert [i["id"] for i in results["listed"]["vultr_instance_info"]] == [created["id"]]
    assert results["deleted"]["changed"] is True and results["key_deleted"]["changed"] is True
    assert results["after"]["vultr_instance_info"] == []
