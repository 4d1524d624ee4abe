"""The demo lab, end to end: the real ansible-playbook and vultr.cloud against the sandbox."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cloudlabmanager.sandbox.processes import is_alive

DEMO_LAB = Path(__file__).parents[2] / "src/cloudlabmanager/demo_lab"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
VAULT_PASSWORD = "demo-vault-password"

pytestmark = pytest.mark.ansible

Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A copy of the demo lab somewhere else, as the manager would check it out."""
    copy = tmp_path / "checkout" / "lab"
    shutil.copytree(DEMO_LAB, copy)
    return copy


@pytest.fixture
def vault_file(tmp_path: Path) -> Path:
    path = tmp_path / "vault-password"
    path.write_text(VAULT_PASSWORD + "\n")
    path.chmod(0o600)
    return path


def make_runner(sandbox: Any, lab: Path, vault_file: Path, tmp_path: Path) -> Runner:
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        **sandbox.environment(),
    }

    def run(playbook: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(ANSIBLE_PLAYBOOK), playbook, "--vault-password-file", str(vault_file), *args]
        done = subprocess.run(
            argv, cwd=lab, env=environment, capture_output=True, text=True, timeout=600
        )
        if check and done.returncode != 0:
            pytest.fail(f"{playbook} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    return run


@pytest.fixture
def run(sandbox: Any, lab: Path, vault_file: Path, tmp_path: Path) -> Runner:
    return make_runner(sandbox, lab, vault_file, tmp_path)


def extra(**variables: str) -> list[str]:
    return ["-e", json.dumps(variables)]


def deploy(run: Runner, lab: Path, service: str) -> dict[str, Any]:
    """The standard flow of SPEC section 3 (the readiness poll is the job engine's)."""
    run(
        "init_playbook/start-instances.yaml",
        *extra(instances_file=str(lab / "services" / service / "instance.yaml")),
    )
    inventory = lab / "services" / service / "outputs" / "temp_inventory.yaml"
    run("services/docker-base/main.yaml", "-i", str(inventory))
    run(f"services/{service}/main.yaml", "-i", str(inventory))
    hosts: dict[str, Any] = yaml.safe_load(inventory.read_text())["all"]["hosts"]
    return hosts


def instances(sandbox: Any) -> list[dict[str, Any]]:
    with sandbox.vultr() as client:
        found: list[dict[str, Any]] = client.get("/instances").json()["instances"]
    return found


def a_records(sandbox: Any) -> dict[str, str]:
    with sandbox.cloudflare() as client:
        zone = client.get("/zones", params={"name": "lab.test"}).json()["result"][0]["id"]
        records = client.get(f"/zones/{zone}/dns_records", params={"type": "A"}).json()
    return {record["name"]: record["content"] for record in records["result"]}


def web_pid(host: dict[str, Any]) -> int:
    return int((Path(host["sandbox_disk"]) / "run" / "web.pid").read_text())


def test_deploy_inspect_and_stop_everything(sandbox: Any, lab: Path, run: Runner) -> None:
    ubuntu = deploy(run, lab, "test-ubuntu")
    hello = deploy(run, lab, "web-hello")
    pair = deploy(run, lab, "web-pair")

    assert set(ubuntu) == {"testUbuntu"} and set(pair) == {"webPairA", "webPairB"}
    host = hello["webHello"]
    assert host["ansible_connection"] == "local" and host["dns_name"] == "hello.lab.test"
    page = httpx.get(f"http://{host['ansible_host']}:8080/", timeout=10)
    assert page.status_code == 200 and "Hello from the CloudLab sandbox" in page.text
    for label, pair_host in pair.items():
        answer = httpx.get(f"http://{pair_host['ansible_host']}:8080/", timeout=10)
        assert "One of a pair" in answer.text and label in answer.text
    addresses = {h["ansible_host"] for h in [*ubuntu.values(), *hello.values(), *pair.values()]}
    assert len(addresses) == 4
    assert a_records(sandbox) == {
        "test.lab.test": ubuntu["testUbuntu"]["ansible_host"],
        "hello.lab.test": host["ansible_host"],
        "pair-a.lab.test": pair["webPairA"]["ansible_host"],
        "pair-b.lab.test": pair["webPairB"]["ansible_host"],
    }

    redeployed = deploy(run, lab, "web-hello")
    assert redeployed["webHello"]["vultr_id"] == host["vultr_id"]
    assert len(instances(sandbox)) == 4 and len(a_records(sandbox)) == 4

    run("init_playbook/generate-inventory.yaml")
    inventory = yaml.safe_load((lab / "inventory" / "vultr.yml").read_text())["all"]
    assert set(inventory["hosts"]) == {"testUbuntu", "webHello", "webPairA", "webPairB"}
    assert inventory["hosts"]["testUbuntu"] == {
        "ansible_host": ubuntu["testUbuntu"]["ansible_host"],
        "vultr_id": ubuntu["testUbuntu"]["vultr_id"],
        "vultr_label": "testUbuntu",
        "vultr_region": "mel",
        "vultr_plan": "vc2-1c-1gb",
        "vultr_os": "Ubuntu 24.04 LTS x64",
        "vultr_power_status": "running",
        "vultr_tags": ["test-ubuntu"],
        "vultr_hostname": "test",
    }
    assert set(inventory["children"]["web_pair"]["hosts"]) == {"webPairA", "webPairB"}

    run(
        "init_playbook/stop-single-instance.yaml",
        *extra(instance_label="testUbuntu", instance_region="mel"),
    )
    assert "testUbuntu" not in {i["label"] for i in instances(sandbox)}
    assert "test.lab.test" not in a_records(sandbox)

    hello_pid = web_pid(redeployed["webHello"])
    pair_pids = [web_pid(h) for h in pair.values()]
    run("init_playbook/generate-inventory.yaml")
    run(
        "init_playbook/stop-instances.yaml",
        "-i",
        "inventory/vultr.yml",
        *extra(service_filter="web-hello"),
    )
    assert sorted(i["label"] for i in instances(sandbox)) == ["webPairA", "webPairB"]
    assert not is_alive(hello_pid)
    assert all(is_alive(pid) for pid in pair_pids)
    assert set(a_records(sandbox)) == {"pair-a.lab.test", "pair-b.lab.test"}

    run("init_playbook/generate-inventory.yaml")
    run("init_playbook/stop-instances.yaml", "-i", "inventory/vultr.yml")
    assert instances(sandbox) == [] and a_records(sandbox) == {}
    assert not any(is_alive(pid) for pid in pair_pids)
    assert list((sandbox.state_dir / "instances").iterdir()) == []

    run("init_playbook/generate-inventory.yaml")
    assert yaml.safe_load((lab / "inventory" / "vultr.yml").read_text())["all"]["hosts"] == {}


def test_a_wrong_vault_password_stops_start_instances(
    sandbox: Any, lab: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong-vault-password"
    wrong.write_text("not-the-password\n")
    run = make_runner(sandbox, lab, wrong, tmp_path)
    done = run(
        "init_playbook/start-instances.yaml",
        *extra(instances_file=str(lab / "services/test-ubuntu/instance.yaml")),
        check=False,
    )
    assert done.returncode != 0
    assert "Decryption failed" in done.stdout + done.stderr
    assert instances(sandbox) == []


def test_the_flow_survives_a_flaky_cloud(
    sandbox_factory: Callable[..., Any], lab: Path, vault_file: Path, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(faults="error_rate=0.15,throttle_rate=0.1,retry_after=1,seed=3")
    run = make_runner(sandbox, lab, vault_file, tmp_path)
    run(
        "init_playbook/start-instances.yaml",
        *extra(instances_file=str(lab / "services/test-ubuntu/instance.yaml")),
    )
    run(
        "init_playbook/stop-single-instance.yaml",
        *extra(instance_label="testUbuntu", instance_region="mel"),
    )
    calm = sandbox_factory(state_dir=sandbox.state_dir)
    assert instances(calm) == [] and a_records(calm) == {}
