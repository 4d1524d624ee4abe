"""Services of a lab (SPEC section 2): which directories are services, and their VMs.

A name is checked against the pattern before it touches the file system, and
every path is resolved (symlinks followed) and must stay inside the lab. A broken
`instance.yaml` marks that one service with an error; the list still loads.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cloudlabmanager.errors import NotFound
from cloudlabmanager.lab.yamlfile import YamlFileError, load_yaml_file

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NOT_A_SERVICE = frozenset({"docker-base"})
MAX_INSTANCES = 100

Flow = Literal["standard", "script"]


@dataclass(frozen=True)
class InstanceSpec:
    label: str
    hostname: str | None = None
    plan: str | None = None
    region: str | None = None
    os: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class Service:
    name: str
    flow: Flow
    directory: Path
    instance_file: Path | None = None
    temp_inventory: Path | None = None
    instances: list[InstanceSpec] = field(default_factory=list)
    key_name: str | None = None
    key_location: str | None = None
    # The parsed instance.yaml as it is (for the detail view); None when absent or broken.
    document: dict[str, Any] | None = None
    error: str | None = None


def is_valid_name(name: str) -> bool:
    return name.isascii() and bool(_NAME.fullmatch(name)) and ".." not in name


def _inside(path: Path, lab: Path) -> Path | None:
    """The resolved path if it stays inside the (resolved) lab, else None."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return None
    return resolved if resolved == lab or resolved.is_relative_to(lab) else None


def _text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{what} must be text")
    return str(value)


def _instance(raw: Any, index: int) -> InstanceSpec:
    where = f"instances[{index}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a mapping")
    label = _text(raw.get("label"), f"{where}.label")
    if not label:
        raise ValueError(f"{where}.label is missing")
    tags = raw.get("tags") or []
    if not isinstance(tags, list):
        raise ValueError(f"{where}.tags must be a list")
    return InstanceSpec(
        label=label,
        hostname=_text(raw.get("hostname"), f"{where}.hostname"),
        plan=_text(raw.get("plan"), f"{where}.plan"),
        region=_text(raw.get("region"), f"{where}.region"),
        os=_text(raw.get("os"), f"{where}.os"),
        tags=[t for t in (_text(tag, f"{where}.tags") for tag in tags) if t is not None],
    )


def _read_instance_file(service: Service, lab: Path) -> None:
    assert service.instance_file is not None
    try:
        document = load_yaml_file(service.instance_file)
    except YamlFileError as exc:
        service.error = str(exc)  # already names instance.yaml
        return
    try:
        if not isinstance(document, dict):
            raise ValueError("must be a mapping")
        raw = document.get("instances") or []
        if not isinstance(raw, list):
            raise ValueError("instances must be a list")
        if len(raw) > MAX_INSTANCES:
            raise ValueError(f"more than {MAX_INSTANCES} instances")
        instances = [_instance(item, i) for i, item in enumerate(raw)]
        key_name = _text(document.get("name"), "name")
        key_location = _text(document.get("keyLocation"), "keyLocation")
        temp = _text(document.get("temp_inventory"), "temp_inventory")
    except ValueError as exc:
        service.error = f"instance.yaml: {exc}"
        return
    if temp:
        candidate = _inside(lab / temp, lab) if not Path(temp).is_absolute() else None
        if candidate is None:
            service.error = "instance.yaml: temp_inventory must be a path inside the lab"
            return
        service.temp_inventory = candidate
    service.instances = instances
    service.key_name, service.key_location = key_name, key_location
    service.document = document


def _load(lab: Path, name: str) -> Service | None:
    """The service called name, or None when it is not one (checked name assumed)."""
    directory = _inside(lab / "services" / name, lab)
    if directory is None or not directory.is_dir():
        return None
    files: dict[str, Path | None] = {}
    escaped: list[str] = []
    for file in ("instance.yaml", "main.yaml", "deploy.sh"):
        path = directory / file
        if not os.path.lexists(path):
            files[file] = None
            continue
        inside = _inside(path, lab)
        files[file] = inside if inside is not None and inside.is_file() else None
        if inside is None:
            escaped.append(file)
    flow: Flow
    if files["deploy.sh"] is not None:
        flow = "script"  # a deploy script performs the whole deploy, VMs included
    elif files["instance.yaml"] is not None and files["main.yaml"] is not None:
        flow = "standard"
    elif "instance.yaml" in escaped or "main.yaml" in escaped or "deploy.sh" in escaped:
        flow = "standard"
    else:
        return None
    service = Service(
        name=name,
        flow=flow,
        directory=directory,
        instance_file=files["instance.yaml"],
        temp_inventory=_inside(directory / "outputs" / "temp_inventory.yaml", lab),
    )
    if escaped:
        service.error = f"{', '.join(escaped)} points outside the lab"
    elif service.instance_file is not None:
        _read_instance_file(service, lab)
    if service.flow == "standard" and service.temp_inventory is None and not service.error:
        service.error = "outputs/temp_inventory.yaml points outside the lab"
    return service


def get_service(lab_dir: Path, name: str) -> Service:
    """The service called name; NotFound for any name that is not a service."""
    if not is_valid_name(name) or name in NOT_A_SERVICE:
        raise NotFound("Service not found")
    service = _load(lab_dir.resolve(), name)
    if service is None:
        raise NotFound("Service not found")
    return service


def list_services(lab_dir: Path) -> list[Service]:
    lab = lab_dir.resolve()
    services_dir = _inside(lab / "services", lab)
    if services_dir is None or not services_dir.is_dir():
        return []
    found = []
    for name in sorted(os.listdir(services_dir)):
        if not is_valid_name(name) or name in NOT_A_SERVICE:
            continue
        service = _load(lab, name)
        if service is not None:
            found.append(service)
    return found
