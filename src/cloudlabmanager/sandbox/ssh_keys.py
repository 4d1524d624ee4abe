"""Sandbox Vultr SSH keys: stored, listed and attached to instances, never used to log in."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from .errors import bad_request, not_found
from .store import StateStore

SshKey = dict[str, Any]
Body = dict[str, Any]

_KEY_PREFIXES = ("ssh-ed25519 ", "ssh-rsa ", "ecdsa-sha2-", "sk-ssh-ed25519@openssh.com ")


def _validated(body: Body, *, partial: bool) -> dict[str, str]:
    fields: dict[str, str] = {}
    for key in ("name", "ssh_key"):
        value = body.get(key)
        if value is None:
            if not partial:
                raise bad_request(f"Missing {key}.")
            continue
        if not isinstance(value, str) or not value.strip():
            raise bad_request(f"Invalid {key}.")
        fields[key] = value.strip()
    if "ssh_key" in fields and not fields["ssh_key"].startswith(_KEY_PREFIXES):
        raise bad_request("Invalid ssh_key: not an OpenSSH public key.")
    return fields


class SshKeyService:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def all(self) -> list[SshKey]:
        keys: list[SshKey] = list(self.store.read()["ssh_keys"].values())
        keys.sort(key=lambda key: (key["date_created"], key["id"]))
        return keys

    def get(self, key_id: str) -> SshKey:
        key: SshKey | None = self.store.read()["ssh_keys"].get(key_id)
        if key is None:
            raise not_found("SSH key")
        return key

    def create(self, body: Body) -> SshKey:
        fields = _validated(body, partial=False)
        key_id = str(uuid.uuid4())
        created = datetime.fromtimestamp(time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        key: SshKey = {"id": key_id, "date_created": created, **fields}
        with self.store.transaction() as state:
            state["ssh_keys"][key_id] = key
        return key

    def update(self, key_id: str, body: Body) -> None:
        fields = _validated(body, partial=True)
        with self.store.transaction() as state:
            key: SshKey | None = state["ssh_keys"].get(key_id)
            if key is None:
                raise not_found("SSH key")
            key.update(fields)

    def delete(self, key_id: str) -> None:
        with self.store.transaction() as state:
            if state["ssh_keys"].pop(key_id, None) is None:
                raise not_found("SSH key")
