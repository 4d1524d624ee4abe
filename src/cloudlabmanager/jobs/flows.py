"""The flows of SPEC section 3: which steps each action runs, and in what order.

A flow is data: a list of steps, each an argv run in the lab, plus what to do with
the lab's state after a step succeeds (refresh the instances cache, drop a host).
Extra variables always travel as one JSON document, never as k=v strings.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudlabmanager.context import AppContext
from cloudlabmanager.errors import BadRequest
from cloudlabmanager.jobs.states import LAB_LOCK
from cloudlabmanager.lab.discovery import get_service, list_services
from cloudlabmanager.lab.inventory import refresh_instances_cache, remove_cached_host

AfterStep = Callable[[AppContext], None]


@dataclass(frozen=True)
class FlowStep:
    name: str
    argv: list[str]
    ansible_events: bool = False
    after: AfterStep | None = None
    script: bool = False

    def display(self) -> str:
        return "$ " + shlex.join(self.argv)


def _playbook(
    ctx: AppContext, playbook: str, *extra: str, variables: dict[str, Any] | None = None
) -> list[str]:
    assert ctx.lab_dir is not None
    argv = ["ansible-playbook", str(ctx.lab_dir / playbook), *extra]
    if variables:
        argv += ["-e", json.dumps(variables, separators=(",", ":"))]
    if ctx.vault_file is not None:
        argv += ["--vault-password-file", str(ctx.vault_file)]
    return argv


def _generate_inventory(ctx: AppContext) -> FlowStep:
    return FlowStep(
        "generate-inventory",
        _playbook(ctx, "init_playbook/generate-inventory.yaml"),
        ansible_events=True,
    )


def _inventory(ctx: AppContext) -> str:
    assert ctx.lab_dir is not None
    return str(ctx.lab_dir / "inventory" / "vultr.yml")


def deploy_flow(ctx: AppContext, service_name: str) -> list[FlowStep]:
    assert ctx.lab_dir is not None
    service = get_service(ctx.lab_dir, service_name)
    if service.error:
        raise BadRequest(f"Service {service.name} cannot be deployed: {service.error}")
    if service.flow == "script":
        script = service.directory / "deploy.sh"
        return [FlowStep("deploy.sh", ["bash", str(script)], script=True)]
    assert service.instance_file is not None and service.temp_inventory is not None
    temp_inventory = str(service.temp_inventory)
    ready_timeout = int(ctx.settings.ready_timeout)
    return [
        FlowStep(
            "start-instances",
            _playbook(
                ctx,
                "init_playbook/start-instances.yaml",
                variables={"instances_file": str(service.instance_file)},
            ),
            ansible_events=True,
        ),
        FlowStep(
            "wait-for-hosts",
            [
                "ansible",
                "all",
                "-i",
                temp_inventory,
                "-m",
                "ansible.builtin.wait_for_connection",
                "-a",
                json.dumps({"timeout": ready_timeout, "sleep": 2}),
            ],
            ansible_events=False,
        ),
        FlowStep(
            "docker-base",
            _playbook(ctx, "services/docker-base/main.yaml", "-i", temp_inventory),
            ansible_events=True,
        ),
        FlowStep(
            service.name,
            _playbook(ctx, f"services/{service.name}/main.yaml", "-i", temp_inventory),
            ansible_events=True,
        ),
    ]


def stop_flow(ctx: AppContext, service_name: str | None) -> list[FlowStep]:
    if service_name is not None:
        assert ctx.lab_dir is not None
        get_service(ctx.lab_dir, service_name)  # 404 for an unknown service
    variables = {"service_filter": service_name} if service_name else None
    return [
        _generate_inventory(ctx),
        FlowStep(
            "stop-instances",
            _playbook(
                ctx, "init_playbook/stop-instances.yaml", "-i", _inventory(ctx), variables=variables
            ),
            ansible_events=True,
        ),
        FlowStep(
            "refresh-inventory",
            _playbook(ctx, "init_playbook/generate-inventory.yaml"),
            ansible_events=True,
            after=refresh_instances_cache,
        ),
    ]


def refresh_flow(ctx: AppContext) -> list[FlowStep]:
    step = _generate_inventory(ctx)
    return [FlowStep(step.name, step.argv, step.ansible_events, after=refresh_instances_cache)]


def destroy_flow(ctx: AppContext, label: str, region: str) -> list[FlowStep]:
    def drop_host(context: AppContext) -> None:
        remove_cached_host(context, label)

    return [
        FlowStep(
            "stop-single-instance",
            _playbook(
                ctx,
                "init_playbook/stop-single-instance.yaml",
                variables={"instance_label": label, "instance_region": region},
            ),
            ansible_events=True,
            after=drop_host,
        )
    ]


def build_flow(
    ctx: AppContext, action: str, service: str | None, params: dict[str, Any]
) -> list[FlowStep]:
    if action == "deploy" and service:
        return deploy_flow(ctx, service)
    if action == "stop":
        return stop_flow(ctx, service)
    if action == "stop_all":
        return stop_flow(ctx, None)
    if action == "refresh":
        return refresh_flow(ctx)
    if action == "destroy":
        return destroy_flow(ctx, str(params["label"]), str(params["region"]))
    raise BadRequest(f"Unknown action {action}")


def lock_key_for(ctx: AppContext, action: str, service: str | None, params: dict[str, Any]) -> str:
    """The lock a job holds: its service, or the whole lab.

    Destroying one instance locks the service whose instance.yaml declares its
    label, so it cannot race a deploy or stop of that service; an instance no
    service declares takes the lab-wide lock rather than none.
    """
    if action in ("deploy", "stop") and service:
        return service
    if action == "destroy" and ctx.lab_dir is not None:
        label = params.get("label")
        for candidate in list_services(ctx.lab_dir):
            if any(spec.label == label for spec in candidate.instances):
                return candidate.name
    return LAB_LOCK
