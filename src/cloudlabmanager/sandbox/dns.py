"""Sandbox Cloudflare zones and DNS records, stored in the state store.

Record names are stored fully qualified and lower-case, as Cloudflare does: a
relative name (`test`) or `@` is completed with the zone's name. An identical
record (same type, name and content) cannot be created twice.
"""

from __future__ import annotations

import ipaddress
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from .errors import CloudflareError
from .store import State, StateStore

Resource = dict[str, Any]
Body = dict[str, Any]

RECORD_TYPES = ("A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA")
ACCOUNT = {"id": "0" * 31 + "1", "name": "Sandbox account"}


def _now() -> str:
    return datetime.fromtimestamp(time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def zone_view(zone: Resource) -> Resource:
    created = zone.get("created_on", "2024-01-01T00:00:00.000000Z")
    return {
        "id": zone["id"],
        "name": zone["name"],
        "status": "active",
        "paused": False,
        "type": "full",
        "development_mode": 0,
        "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "original_name_servers": [],
        "original_registrar": None,
        "original_dnshost": None,
        "created_on": created,
        "modified_on": created,
        "activated_on": created,
        "meta": {"step": 2, "phishing_detected": False},
        "owner": {"id": None, "type": "user", "email": None},
        "account": dict(ACCOUNT),
        "permissions": ["#dns_records:edit", "#dns_records:read", "#zone:read"],
        "plan": {"id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": "Free Website", "price": 0},
    }


def _invalid(message: str, code: int = 1004) -> CloudflareError:
    return CloudflareError(400, code, message)


class DnsService:
    """Everything the Cloudflare routes do, without HTTP."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def _zone(self, state: State, zone_id: str) -> Resource:
        zone: Resource | None = state["zones"].get(zone_id)
        if zone is None:
            raise CloudflareError(
                404,
                7003,
                f"Could not route to /zones/{zone_id}, perhaps your object identifier is invalid?",
            )
        return zone

    def list_zones(self, name: str | None) -> list[Resource]:
        zones = sorted(self.store.read()["zones"].values(), key=lambda zone: zone["name"])
        return [zone_view(zone) for zone in zones if name in (None, "", zone["name"])]

    def get_zone(self, zone_id: str) -> Resource:
        return zone_view(self._zone(self.store.read(), zone_id))

    def create_zone(self, body: Body) -> Resource:
        name = body.get("name")
        if not isinstance(name, str) or "." not in name.strip(". "):
            raise _invalid("Invalid zone name.", 1099)
        name = name.strip(". ").lower()
        with self.store.transaction() as state:
            if any(zone["name"] == name for zone in state["zones"].values()):
                raise _invalid(f"{name} already exists.", 1061)
            zone_id = uuid.uuid4().hex
            state["zones"][zone_id] = {"id": zone_id, "name": name, "created_on": _now()}
            return zone_view(state["zones"][zone_id])

    def list_records(self, zone_id: str, filters: dict[str, str]) -> list[Resource]:
        state = self.store.read()
        zone = self._zone(state, zone_id)
        records = [rec for rec in state["dns_records"].values() if rec["zone_id"] == zone_id]
        for key, wanted in filters.items():
            if key == "name":
                wanted = _qualify(wanted, zone["name"])
            if key == "type":
                wanted = wanted.upper()
            records = [rec for rec in records if rec[key] == wanted]
        return sorted(records, key=lambda rec: (rec["name"], rec["type"], rec["created_on"]))

    def get_record(self, zone_id: str, record_id: str) -> Resource:
        state = self.store.read()
        self._zone(state, zone_id)
        return _record(state, zone_id, record_id)

    def create_record(self, zone_id: str, body: Body) -> Resource:
        with self.store.transaction() as state:
            zone = self._zone(state, zone_id)
            fields = _validated(body, zone["name"], current=None)
            _refuse_duplicate(state, zone_id, fields, except_id=None)
            now = _now()
            record: Resource = {
                "id": uuid.uuid4().hex,
                "zone_id": zone_id,
                "zone_name": zone["name"],
                "proxiable": fields["type"] in ("A", "AAAA", "CNAME"),
                "locked": False,
                "meta": {"auto_added": False, "managed_by_apps": False},
                "settings": {},
                "created_on": now,
                "modified_on": now,
                **fields,
            }
            state["dns_records"][record["id"]] = record
            return record

    def update_record(self, zone_id: str, record_id: str, body: Body, *, partial: bool) -> Resource:
        with self.store.transaction() as state:
            zone = self._zone(state, zone_id)
            record = _record(state, zone_id, record_id)
            fields = _validated(body, zone["name"], current=record if partial else None)
            _refuse_duplicate(state, zone_id, fields, except_id=record_id)
            record.update(fields, modified_on=_now())
            return record

    def delete_record(self, zone_id: str, record_id: str) -> None:
        with self.store.transaction() as state:
            self._zone(state, zone_id)
            _record(state, zone_id, record_id)
            del state["dns_records"][record_id]


def _record(state: State, zone_id: str, record_id: str) -> Resource:
    record: Resource | None = state["dns_records"].get(record_id)
    if record is None or record["zone_id"] != zone_id:
        raise CloudflareError(404, 81044, "Record does not exist.")
    return record


def _qualify(name: str, zone_name: str) -> str:
    name = name.strip().rstrip(".").lower()
    if name in ("", "@"):
        return zone_name
    if name == zone_name or name.endswith("." + zone_name):
        return name
    return f"{name}.{zone_name}"


def _validated(body: Body, zone_name: str, current: Resource | None) -> Resource:
    """The record fields of a create (current None), PUT (None) or PATCH (current) body."""
    merged: Body = {**(current or {}), **{k: v for k, v in body.items() if v is not None}}
    for key in ("type", "name", "content"):
        if not isinstance(merged.get(key), str) or not merged[key].strip():
            raise _invalid(f"DNS Validation Error: {key} is required.", 9000 + len(key))
    record_type = merged["type"].upper()
    if record_type not in RECORD_TYPES:
        raise _invalid(f"Invalid DNS record type {merged['type']}.", 1004)
    content = merged["content"].strip()
    if record_type == "A":
        try:
            ipaddress.IPv4Address(content)
        except ValueError:
            raise _invalid("Content for A record must be a valid IPv4 address.", 9005) from None
    ttl = merged.get("ttl", 1)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not (ttl == 1 or 60 <= ttl <= 86400):
        raise _invalid("TTL must be between 60 and 86400 seconds, or 1 for Automatic.", 9021)
    proxied = merged.get("proxied", False)
    if not isinstance(proxied, bool):
        raise _invalid("Invalid proxied value.", 9003)
    comment = merged.get("comment")
    tags = merged.get("tags", [])
    return {
        "type": record_type,
        "name": _qualify(merged["name"], zone_name),
        "content": content,
        "ttl": ttl,
        "proxied": proxied,
        "comment": comment if isinstance(comment, str) else None,
        "tags": [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else [],
    }


def _refuse_duplicate(state: State, zone_id: str, fields: Resource, except_id: str | None) -> None:
    for other in state["dns_records"].values():
        if other["zone_id"] != zone_id or other["id"] == except_id:
            continue
        if (other["type"], other["name"], other["content"]) == (
            fields["type"],
            fields["name"],
            fields["content"],
        ):
            raise _invalid("An identical record already exists.", 81058)
