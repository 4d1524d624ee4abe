"""Labs built for tests: real directories (and git repositories) with real playbooks."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

SCRIPTS = {
    "hello": """
        echo "hello from $(basename "$PWD")"
        echo "DEPLOYMENT_ID=dep-42"
        echo "vault says: $(cat "$ANSIBLE_VAULT_PASSWORD_FILE")"
        echo "done"
    """,
    "sleeper": """
        trap 'echo "got TERM, ignoring"' TERM
        echo "started"
        for i in $(seq 1 600); do sleep 0.1; done
        echo "woke up"
    """,
    "failing": """
        echo "about to fail"
        exit 3
    """,
    "evil": r"""
        echo '<script>alert(1)</script><img src=x onerror=alert(2)>'
        printf 'bad utf8: \xff\xfe end\n'
        printf 'before\rdata: forged\revent: done\n'
        printf 'id: 999\n'
        head -c 1048576 /dev/zero | tr '\0' 'x'; echo
        printf 'no final newline'
    """,
    "chatty": """
        seq 1 20000
    """,
    "orphan": """
        (sleep 300 & echo $! > "$PWD/orphan.pid"; wait) &
        echo "left a grandchild behind"
    """,
}

START_INSTANCES = """
- name: Start instances (test lab, localhost stands in for the VMs)
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Read the instance file
      ansible.builtin.set_fact:
        spec: "{{ lookup('file', instances_file) | from_yaml }}"
    - name: Write the temp inventory
      ansible.builtin.copy:
        dest: "{{ playbook_dir }}/../{{ spec.temp_inventory }}"
        content: |
          all:
            hosts:
          {% for i in spec.instances %}
              {{ i.label }}:
                ansible_host: 127.0.0.1
                ansible_connection: local
                ansible_python_interpreter: "{{ ansible_playbook_python }}"
          {% endfor %}
"""

GENERATE_INVENTORY = """
- name: Generate inventory
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Write inventory/vultr.yml
      ansible.builtin.copy:
        dest: "{{ playbook_dir }}/../inventory/vultr.yml"
        content: |
          all:
            hosts:
              web1:
                ansible_host: 127.0.0.9
                vultr_id: abc
                vultr_label: web1
                vultr_region: mel
                vultr_plan: vc2-1c-1gb
                vultr_os: Ubuntu
                vultr_power_status: running
                vultr_tags: [local]
                root_password: hunter2-secret
"""

STOP_INSTANCES = """
- name: Stop instances
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Say what would stop
      ansible.builtin.debug:
        msg: "stopping {{ service_filter | default('everything') }}"
"""

STOP_SINGLE = """
- name: Stop one instance
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Say which
      ansible.builtin.debug:
        msg: "destroying {{ instance_label }} in {{ instance_region }}"
"""

DOCKER_BASE = """
- name: Docker base (test lab)
  hosts: all
  gather_facts: false
  tasks:
    - name: Pretend
      ansible.builtin.debug:
        msg: docker would be installed here
"""

SERVICE_MAIN = """
- name: Local service
  hosts: all
  gather_facts: false
  tasks:
    - name: Works
      ansible.builtin.command: echo deployed
      changed_when: true
    - name: Skipped
      ansible.builtin.debug:
        msg: never
      when: false
"""

FAILING_MAIN = """
- name: Failing service
  hosts: all
  gather_facts: false
  tasks:
    - name: Breaks
      ansible.builtin.fail:
        msg: this task fails on purpose
"""


def _instance_yaml(name: str, label: str) -> str:
    return textwrap.dedent(
        f"""\
        keyLocation: services/{name}/outputs/key
        name: key
        temp_inventory: services/{name}/outputs/temp_inventory.yaml
        instances:
          - label: {label}
            hostname: {label.lower()}
            plan: vc2-1c-1gb
            region: mel
            os: "Ubuntu 24.04 LTS x64"
            tags: [{name}]
        """
    )


def write_test_lab(root: Path, *, git: bool = False) -> Path:
    (root / "services").mkdir(parents=True, exist_ok=True)
    (root / "config.yml").write_text("domain_name: lab.test\n")
    init = root / "init_playbook"
    init.mkdir(exist_ok=True)
    (init / "start-instances.yaml").write_text(START_INSTANCES)
    (init / "generate-inventory.yaml").write_text(GENERATE_INVENTORY)
    (init / "stop-instances.yaml").write_text(STOP_INSTANCES)
    (init / "stop-single-instance.yaml").write_text(STOP_SINGLE)
    (root / "inventory").mkdir(exist_ok=True)
    (root / "services" / "docker-base").mkdir(exist_ok=True)
    (root / "services" / "docker-base" / "main.yaml").write_text(DOCKER_BASE)
    for name, body in SCRIPTS.items():
        service = root / "services" / name
        service.mkdir(exist_ok=True)
        (service / "deploy.sh").write_text("set -u\n" + textwrap.dedent(body))
    for name, label, main in (
        ("local", "localOne", SERVICE_MAIN),
        ("broken", "brokenOne", FAILING_MAIN),
    ):
        service = root / "services" / name
        (service / "outputs").mkdir(parents=True, exist_ok=True)
        (service / "instance.yaml").write_text(_instance_yaml(name, label))
        (service / "main.yaml").write_text(main)
    if git:
        run = ["git", "-C", str(root)]
        subprocess.run([*run, "init", "-q", "-b", "main"], check=True)
        subprocess.run([*run, "add", "-A"], check=True)
        subprocess.run(
            [*run, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "lab"], check=True
        )
    return root
