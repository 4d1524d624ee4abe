"""Sandbox Vultr instances: records in the state store, a loopback address and a disk each.

An instance is `pending` (server_status `none`) for `boot_seconds` after its
creation and `active` (server_status `ok`) afterwards; the status is computed
when the instance is read, so nothing has to run in the background. Its disk is
the directory `<state_dir>/instances/<id>`.
"""

from __future__ import annotations

import secrets
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import addresses, catalog, processes
from .errors import VultrError, bad_request, not_found
from .store import State, StateStore

Instance = dict[str, Any]
Body = dict[str, Any]

UPDATABLE_KEYS = ("label", "tags", "plan", "firewall_group_id", "user_data", "hostname")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _string_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_request(f"Invalid {field}: expected a list of strings.")
    return list(value)


def _optional_str(body: Body, key: str, default: str = "") -> str:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise bad_request(f"Invalid {key}.")
    return value


class InstanceService:
    """Everything the Vultr routes do to instances, without HTTP."""

    def __init__(self, store: StateStore, boot_seconds: float) -> None:
        self.store = store
        self.boot_seconds = boot_seconds

    def disk(self, instance_id: str) -> Path:
        return self.store.instances_dir / instance_id

    def view(self, record: Instance, now: float | None = None) -> Instance:
        """The instance as the Vultr API shows it."""
        now = time.time() if now is None else now
        booted = now >= record["created_at"] + record["boot_seconds"]
        plan = catalog.find_plan(record["plan"]) or {}
        image = catalog.find_os(record["os_id"]) or {}
        return {
            "id": record["id"],
            "os": image.get("name", ""),
            "ram": plan.get("ram", 0),
            "disk": plan.get("disk", 0),
            "main_ip": record["main_ip"],
            "vcpu_count": plan.get("vcpu_count", 0),
            "region": record["region"],
            "plan": record["plan"],
            "date_created": _iso(record["created_at"]),
            "status": "active" if booted else "pending",
            "allowed_bandwidth": plan.get("bandwidth", 0),
            "netmask_v4": "255.0.0.0",
            "gateway_v4": "127.0.0.1",
            "power_status": record["power"],
            "server_status": "ok" if booted else "none",
            "v6_network": "",
            "v6_main_ip": "",
            "v6_network_size": 0,
            "label": record["label"],
            "internal_ip": "",
            "kvm": "",
            "hostname": record["hostname"],
            "tag": record["tags"][0] if record["tags"] else "",
            "tags": list(record["tags"]),
            "os_id": record["os_id"],
            "app_id": 0,
            "image_id": "",
            "firewall_group_id": record["firewall_group_id"],
            "features": list(record["features"]),
            "user_scheme": record["user_scheme"],
        }

    def _record(self, state: State, instance_id: str) -> Instance:
        record: Instance | None = state["instances"].get(instance_id)
        if record is None:
            raise not_found("Instance")
        return record

    def search(self, filters: dict[str, str]) -> list[Instance]:
        state = self.store.read()
        now = time.time()
        views = [self.view(record, now) for record in state["instances"].values()]
        views.sort(key=lambda view: (view["date_created"], view["id"]))
        for key, wanted in filters.items():
            if key == "tag":
                views = [view for view in views if wanted in view["tags"]]
            else:
                views = [view for view in views if view[key] == wanted]
        return views

    def get(self, instance_id: str) -> Instance:
        return self.view(self._record(self.store.read(), instance_id))

    def create(self, body: Body) -> Instance:
        region = _optional_str(body, "region")
        plan = _optional_str(body, "plan")
        if catalog.find_region(region) is None:
            raise bad_request("Invalid region.")
        if catalog.find_plan(plan) is None:
            raise bad_request("Invalid plan.")
        for unsupported in ("app_id", "image_id", "snapshot_id", "iso_id"):
            if body.get(unsupported) not in (None, 0, ""):
                raise bad_request(f"Invalid {unsupported}: the sandbox only installs os_id images.")
        os_id = body.get("os_id")
        if not isinstance(os_id, int) or catalog.find_os(os_id) is None:
            raise bad_request("Invalid os_id.")
        label = _optional_str(body, "label")
        features = ["ipv6"] if body.get("enable_ipv6") else []
        if body.get("backups") == "enabled":
            features.append("auto_backups")
        if body.get("ddos_protection"):
            features.append("ddos_protection")
        password = secrets.token_urlsafe(12)
        with self.store.transaction() as state:
            ssh_keys = _string_list(body.get("sshkey_id"), "sshkey_id")
            unknown = [key for key in ssh_keys if key not in state["ssh_keys"]]
            if unknown:
                raise bad_request(f"Invalid sshkey_id: {', '.join(unknown)}")
            taken = [other["main_ip"] for other in state["instances"].values()]
            try:
                address = addresses.allocate(self.store.state_dir, taken)
            except addresses.AddressesExhaustedError as exc:
                raise VultrError(412, str(exc)) from exc
            instance_id = str(uuid.uuid4())
            record: Instance = {
                "id": instance_id,
                "label": label,
                "hostname": _optional_str(body, "hostname", label or "vultr.guest"),
                "plan": plan,
                "region": region,
                "os_id": os_id,
                "tags": _string_list(body.get("tags"), "tags"),
                "main_ip": address,
                "created_at": time.time(),
                "boot_seconds": self.boot_seconds,
                "power": "running",
                "features": features,
                "firewall_group_id": _optional_str(body, "firewall_group_id"),
                "user_data": _optional_str(body, "user_data"),
                "user_scheme": _optional_str(body, "user_scheme", "root"),
                "sshkey_ids": ssh_keys,
            }
            state["instances"][instance_id] = record
            self.disk(instance_id).mkdir(parents=True, exist_ok=True)
        created = self.view(record)
        created["default_password"] = password
        return created

    def update(self, instance_id: str, body: Body) -> Instance:
        with self.store.transaction() as state:
            record = self._record(state, instance_id)
            if "plan" in body and body["plan"] is not None:
                if catalog.find_plan(str(body["plan"])) is None:
                    raise bad_request("Invalid plan.")
                record["plan"] = body["plan"]
            if body.get("tags") is not None:
                record["tags"] = _string_list(body["tags"], "tags")
            for key in ("label", "hostname", "firewall_group_id", "user_data"):
                if body.get(key) is not None:
                    record[key] = _optional_str(body, key)
        return self.view(record)

    def user_data(self, instance_id: str) -> str:
        record = self._record(self.store.read(), instance_id)
        data: str = record["user_data"]
        return data

    def set_power(self, instance_id: str, action: str) -> None:
        """halt, start or reboot; halting and rebooting stop the instance's processes."""
        self._record(self.store.read(), instance_id)
        if action in ("halt", "reboot"):
            processes.stop_processes(self.disk(instance_id))
        with self.store.transaction() as state:
            record = self._record(state, instance_id)
            record["power"] = "stopped" if action == "halt" else "running"

    def delete(self, instance_id: str) -> None:
        self._record(self.store.read(), instance_id)
        processes.stop_processes(self.disk(instance_id))
        with self.store.transaction() as state:
            state["instances"].pop(instance_id, None)
        shutil.rmtree(self.disk(instance_id), ignore_errors=True)
