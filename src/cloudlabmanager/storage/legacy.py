"""Import of the original's `database.json` (users, metadata, instance cache, jobs).

The original kept everything in one JSON file: `users` (name -> bcrypt hash),
`vault_password`, `instances_cache` and `instances_cache_time`, `HOST_HOSTNAME`,
`dns_id` and `jobs` (id -> service, action, status, times, output lines). The
file is renamed afterwards so that it is never imported twice.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from cloudlabmanager.context import AppContext
from cloudlabmanager.errors import BadRequest, Conflict
from cloudlabmanager.storage import meta as keys
from cloudlabmanager.storage.clock import as_utc, utcnow
from cloudlabmanager.storage.tables import job_lines, jobs, users

MAX_LEGACY_BYTES = 512 * 1024 * 1024
ENDED_STATUSES = {"completed", "failed", "cancelled", "interrupted"}


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BadRequest(f"{path} is not a file")
    if path.stat().st_size > MAX_LEGACY_BYTES:
        raise BadRequest(f"{path} is larger than {MAX_LEGACY_BYTES} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest(f"{path} does not hold a JSON object")
    return data


def _clean_text(value: object) -> str:
    return str(value).replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def import_legacy_database(ctx: AppContext, path: Path, *, force: bool = False) -> str:
    data = _load(path)
    with ctx.engine.connect() as conn:
        has_users = conn.scalar(select(func.count()).select_from(users))
    if has_users and not force:
        raise Conflict("The database already has users; pass --force to import anyway.")
    vault = data.get("vault_password")
    secret = vault if isinstance(vault, str) and vault else None

    def masked(line: object) -> str:
        # The original stored output unmasked; the vault password must not survive.
        text = _clean_text(line)
        return text.replace(secret, "********") if secret else text

    now = utcnow()
    imported_users = imported_jobs = 0
    with ctx.engine.begin() as conn:
        for username, record in (data.get("users") or {}).items():
            password_hash = record.get("password_hash") if isinstance(record, dict) else None
            if not isinstance(password_hash, str):
                continue
            exists = conn.scalar(select(users.c.id).where(users.c.username == username))
            if exists is None:
                conn.execute(
                    insert(users).values(
                        username=str(username)[:64],
                        password_hash=password_hash,
                        token_version=0,
                        is_admin=True,
                        created_at=now,
                    )
                )
                imported_users += 1
        for legacy_id, record in (data.get("jobs") or {}).items():
            if not isinstance(record, dict):
                continue
            status = str(record.get("status", "interrupted"))
            if status not in ENDED_STATUSES:
                status = "interrupted"  # a job the original lost when it stopped
            started = _parse_time(record.get("started_at")) or now
            service = record.get("service") or None
            job_id = conn.execute(
                insert(jobs)
                .values(
                    action=str(record.get("action") or "deploy")[:32],
                    service=str(service)[:64] if service else None,
                    lock_key=str(service or "*")[:64],
                    status=status,
                    params=json.dumps({"legacy_id": str(legacy_id)}),
                    created_at=started,
                    started_at=started,
                    finished_at=_parse_time(record.get("finished_at")),
                    deployment_id=record.get("deployment_id"),
                    line_count=0,
                )
                .returning(jobs.c.id)
            ).scalar_one()
            output = record.get("output") or []
            rows = [
                {"job_id": job_id, "seq": seq, "text": masked(line)}
                for seq, line in enumerate(output, start=1)
            ]
            if rows:
                conn.execute(insert(job_lines), rows)
                conn.execute(jobs.update().where(jobs.c.id == job_id).values(line_count=len(rows)))
            imported_jobs += 1
    if secret:
        ctx.meta.set_secret(keys.VAULT_PASSWORD, secret)
    if isinstance(data.get("instances_cache"), dict):
        ctx.meta.set_json(keys.INSTANCES_CACHE, data["instances_cache"])
    for legacy_key, key in (("HOST_HOSTNAME", keys.HOST_HOSTNAME), ("dns_id", keys.DNS_ZONE_ID)):
        if isinstance(data.get(legacy_key), str):
            ctx.meta.set(key, data[legacy_key])
    ctx.meta.set(keys.LEGACY_IMPORTED, str(path))
    if imported_users:
        ctx.meta.claim(keys.SETUP_CLAIM, "legacy import")
    path.rename(path.with_name(path.name + ".imported"))
    return f"imported {imported_users} user(s) and {imported_jobs} job(s) from {path}"
