"""The instances cache: `inventory/vultr.yml` parsed, redacted, stored with its time.

Only the redacted mapping is stored: host vars of real labs hold root passwords,
and the cache exists to be shown. Hosts are derived when the cache is read.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cloudlabmanager.context import AppContext
from cloudlabmanager.errors import Unprocessable
from cloudlabmanager.lab.discovery import list_services
from cloudlabmanager.lab.yamlfile import YamlFileError, load_yaml_file
from cloudlabmanager.storage import meta as keys

INVENTORY_FILE = Path("inventory") / "vultr.yml"
MAX_INVENTORY_BYTES = 8 * 1024 * 1024
MASK = "********"
CACHE_VERSION = 1

_SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "vault",
    "private",
    "credential",
    "apikey",
    "api_key",
    "auth",
    "cookie",
)
_SECRET_SUFFIX = re.compile(r"(^|[_.-])(pass|pw|pwd|keys?)$")
_SECRET_VALUE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\$ANSIBLE_VAULT;")


class InventoryError(Unprocessable):
    """inventory/vultr.yml cannot be read; the cache keeps its previous content."""


def is_secret_key(key: object) -> bool:
    text = str(key).lower()
    return any(word in text for word in _SECRET_WORDS) or bool(_SECRET_SUFFIX.search(text))


def redact(value: Any) -> Any:
    """A copy of value with every secret-looking entry replaced by the mask, at any depth."""
    if isinstance(value, dict):
        return {
            str(k): MASK if is_secret_key(k) and v is not None else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str) and _SECRET_VALUE.search(value):
        return MASK
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _redact_group(group: Any) -> Any:
    # Host labels and group names are names, not values: a host called "vault" stays.
    if not isinstance(group, dict):
        return redact(group)
    out: dict[str, Any] = {}
    for key, value in group.items():
        if key == "hosts" and isinstance(value, dict):
            out[key] = {str(label): redact(hv) for label, hv in value.items()}
        elif key == "children" and isinstance(value, dict):
            out[key] = {str(name): _redact_group(child) for name, child in value.items()}
        else:
            out[str(key)] = MASK if is_secret_key(key) and value is not None else redact(value)
    return out


def redact_inventory(mapping: dict[str, Any]) -> dict[str, Any]:
    """An inventory with the values of secret-looking variables masked, names kept."""
    return {str(name): _redact_group(group) for name, group in mapping.items()}


@dataclass(frozen=True)
class Host:
    label: str
    hostname: str | None
    ip: str | None
    region: str | None
    plan: str | None
    os: str | None
    power_status: str | None
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class InstancesView:
    instances: dict[str, Any]
    hosts: list[Host]
    cached_at: datetime | None


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _host_vars(mapping: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """label -> vars, from all.hosts and every all.children.<group>.hosts (first wins)."""
    found: dict[str, dict[str, Any]] = {}
    root = mapping.get("all")
    if not isinstance(root, dict):
        return found
    groups: list[Any] = [root]
    children = root.get("children")
    if isinstance(children, dict):
        groups.extend(children.values())
    for group in groups:
        hosts = group.get("hosts") if isinstance(group, dict) else None
        if not isinstance(hosts, dict):
            continue
        for label, host_vars in hosts.items():
            current = found.setdefault(str(label), {})
            if isinstance(host_vars, dict):
                for key, value in host_vars.items():
                    current.setdefault(str(key), value)
    return found


def hosts_of(mapping: dict[str, Any], hostnames: dict[str, str] | None = None) -> list[Host]:
    hostnames = hostnames or {}
    hosts = []
    for label, hv in _host_vars(mapping).items():
        tags = hv.get("vultr_tags")
        real_label = _str(hv.get("vultr_label")) or label
        hostname = (
            hostnames.get(real_label)
            or hostnames.get(label)
            or _str(hv.get("hostname"))
            or _str(hv.get("vultr_hostname"))
        )
        hosts.append(
            Host(
                label=real_label,
                hostname=hostname,
                ip=_str(hv.get("ansible_host")),
                region=_str(hv.get("vultr_region")),
                plan=_str(hv.get("vultr_plan")),
                os=_str(hv.get("vultr_os")),
                power_status=_str(hv.get("vultr_power_status")),
                tags=[str(t) for t in tags] if isinstance(tags, list) else [],
            )
        )
    return hosts


def parse_inventory_file(path: Path) -> dict[str, Any]:
    """The inventory mapping of path; an empty one when the file does not exist."""
    if not path.exists():
        return {}
    try:
        value = load_yaml_file(path, MAX_INVENTORY_BYTES)
    except YamlFileError as exc:
        raise InventoryError(f"inventory/vultr.yml: {exc}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InventoryError("inventory/vultr.yml must be a YAML mapping")
    return value


def store_instances_cache(ctx: AppContext, mapping: dict[str, Any]) -> None:
    """Store an inventory mapping (redacted here) as the cache, stamped now."""
    ctx.meta.set_json(
        keys.INSTANCES_CACHE, {"version": CACHE_VERSION, "inventory": redact_inventory(mapping)}
    )


def refresh_instances_cache(ctx: AppContext) -> None:
    """Read `<lab>/inventory/vultr.yml` into the cache; raises InventoryError if unreadable."""
    if ctx.lab_dir is None:
        raise InventoryError("the lab is not ready yet")
    store_instances_cache(ctx, parse_inventory_file(ctx.lab_dir / INVENTORY_FILE))


def _cached_mapping(ctx: AppContext) -> tuple[dict[str, Any], datetime | None]:
    found = ctx.meta.get_json(keys.INSTANCES_CACHE)
    if found is None:
        return {}, None
    value, stamp = found
    if isinstance(value, dict) and value.get("version") == CACHE_VERSION:
        value = value.get("inventory")
    # Anything else is a bare mapping (an imported legacy cache): redacted on the way out.
    return (value if isinstance(value, dict) else {}), stamp


def remove_cached_host(ctx: AppContext, label: str) -> None:
    """Drop a destroyed host from the cache (all.hosts and every group)."""
    mapping, _ = _cached_mapping(ctx)
    root = mapping.get("all")
    if not isinstance(root, dict):
        return
    groups = [root]
    children = root.get("children")
    if isinstance(children, dict):
        groups.extend(g for g in children.values() if isinstance(g, dict))
    for group in groups:
        hosts = group.get("hosts")
        if isinstance(hosts, dict):
            for key in [k for k, v in hosts.items() if k == label or _label_of(v) == label]:
                del hosts[key]
    store_instances_cache(ctx, mapping)


def _label_of(host_vars: Any) -> str | None:
    return _str(host_vars.get("vultr_label")) if isinstance(host_vars, dict) else None


def _service_hostnames(lab_dir: Path | None) -> dict[str, str]:
    if lab_dir is None:
        return {}
    return {
        spec.label: spec.hostname
        for service in list_services(lab_dir)
        for spec in service.instances
        if spec.hostname
    }


def read_instances(ctx: AppContext) -> InstancesView:
    mapping, stamp = _cached_mapping(ctx)
    safe = redact_inventory(mapping)
    return InstancesView(safe, hosts_of(safe, _service_hostnames(ctx.lab_dir)), stamp)


def host_dicts(view: InstancesView) -> list[dict[str, Any]]:
    return [asdict(host) for host in view.hosts]
