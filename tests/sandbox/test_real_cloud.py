"""Opt-in: the demo lab's init playbooks against the real Vultr and Cloudflare APIs.

Runs only when VULTR_API_KEY, CLOUDFLARE_API_TOKEN and CLM_REAL_CLOUD_DOMAIN (a
zone that token may edit) are set; it creates one vc2-1c-1gb instance with a
unique label and destroys it again, whatever happens in between.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEMO_LAB = Path(__file__).parents[2] / "src/cloudlabmanager/demo_lab"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
REQUIRED = ("VULTR_API_KEY", "CLOUDFLARE_API_TOKEN", "CLM_REAL_CLOUD_DOMAIN")


@pytest.mark.real_cloud
@pytest.mark.ansible
def test_start_list_and_destroy_on_the_real_cloud(tmp_path: Path) -> None:
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        pytest.skip(f"real-cloud test skipped: set {', '.join(missing)} to run it")
    domain = os.environ["CLM_REAL_CLOUD_DOMAIN"]
    lab = tmp_path / "lab"
    shutil.copytree(DEMO_LAB, lab)
    suffix = secrets.token_hex(3)
    label, hostname = f"clmTest{suffix}", f"clm-test-{suffix}"
    spec_path = lab / "services/test-ubuntu/instance.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    spec["instances"][0].update(label=label, hostname=hostname)
    spec_path.write_text(yaml.safe_dump(spec))
    vault = tmp_path / "vault-password"
    vault.write_text("demo-vault-password\n")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        **{name: os.environ[name] for name in REQUIRED[:2]},
    }

    def run(playbook: str, **variables: str) -> None:
        argv = [str(ANSIBLE_PLAYBOOK), playbook, "--vault-password-file", str(vault)]
        argv += ["-e", json.dumps({"domain_name": domain, **variables})]
        done = subprocess.run(argv, cwd=lab, env=env, capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stdout + done.stderr

    try:
        run("init_playbook/start-instances.yaml", instances_file=str(spec_path))
        inventory = yaml.safe_load(
            (lab / "services/test-ubuntu/outputs/temp_inventory.yaml").read_text()
        )
        address = ipaddress.ip_address(inventory["all"]["hosts"][label]["ansible_host"])
        assert address.is_global
        run("init_playbook/generate-inventory.yaml")
        listed = yaml.safe_load((lab / "inventory/vultr.yml").read_text())["all"]["hosts"]
        assert listed[label]["vultr_region"] == "mel"
    finally:
        run("init_playbook/stop-single-instance.yaml", instance_label=label, instance_region="mel")
    run("init_playbook/generate-inventory.yaml")
    listed = yaml.safe_load((lab / "inventory/vultr.yml").read_text())["all"]["hosts"]
    assert label not in listed
