"""App metadata: small facts of this installation, secrets among them encrypted."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from cloudlabmanager.storage.clock import as_utc, utcnow
from cloudlabmanager.storage.secretbox import SecretBox
from cloudlabmanager.storage.tables import app_meta

HOST_HOSTNAME = "host_hostname"
DNS_ZONE_ID = "dns_zone_id"
SIGNING_KEY = "signing_key"
VAULT_PASSWORD = "vault_password"  # noqa: S105 - a key name; its value is encrypted
INSTANCES_CACHE = "instances_cache"
SETUP_CLAIM = "setup_claim"
LEGACY_IMPORTED = "legacy_imported"


class MetaStore:
    """Reads and writes `app_meta`; keys holding secrets go through the SecretBox."""

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self._engine = engine
        self._box = box

    def get(self, key: str) -> str | None:
        with self._engine.connect() as conn:
            value = conn.scalar(select(app_meta.c.value).where(app_meta.c.key == key))
        return value

    def get_with_time(self, key: str) -> tuple[str, datetime] | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(app_meta.c.value, app_meta.c.updated_at).where(app_meta.c.key == key)
            ).first()
        if row is None:
            return None
        updated = as_utc(row.updated_at)
        assert updated is not None
        return row.value, updated

    def set(self, key: str, value: str) -> None:
        now = utcnow()
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(app_meta).where(app_meta.c.key == key).values(value=value, updated_at=now)
            ).rowcount
            if changed == 0:
                conn.execute(insert(app_meta).values(key=key, value=value, updated_at=now))

    def claim(self, key: str, value: str) -> bool:
        """Insert `key` only if absent; True for exactly one of many concurrent callers."""
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(app_meta).values(key=key, value=value, updated_at=utcnow()))
        except IntegrityError:
            return False
        return True

    def delete(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(app_meta).where(app_meta.c.key == key))

    def get_secret(self, key: str) -> str | None:
        token = self.get(key)
        return None if token is None else self._box.decrypt(token)

    def set_secret(self, key: str, plaintext: str) -> None:
        self.set(key, self._box.encrypt(plaintext))

    def get_json(self, key: str) -> tuple[Any, datetime] | None:
        found = self.get_with_time(key)
        if found is None:
            return None
        return json.loads(found[0]), found[1]

    def set_json(self, key: str, value: Any) -> None:
        self.set(key, json.dumps(value, separators=(",", ":")))
