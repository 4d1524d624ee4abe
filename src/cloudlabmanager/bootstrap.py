"""The startup sequence (SPEC section 6) as numbered, idempotent steps.

Each step logs one line. A failing step raises StartupError with a message that
names the step and what to do; the server then does not start.
"""

from __future__ import annotations

import logging
import secrets
import socket
from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI

from cloudlabmanager.auth.throttle import LoginThrottle
from cloudlabmanager.auth.users import UserService
from cloudlabmanager.config import Settings
from cloudlabmanager.context import AppContext
from cloudlabmanager.errors import StartupError
from cloudlabmanager.lab.vault import ensure_runtime_dir, remove_vault_file, write_vault_file
from cloudlabmanager.storage import meta as keys
from cloudlabmanager.storage.db import make_engine, migrate
from cloudlabmanager.storage.meta import MetaStore
from cloudlabmanager.storage.secretbox import SecretBox

log = logging.getLogger("cloudlabmanager.startup")


def _step(number: int, name: str, action: Callable[[], str]) -> None:
    try:
        outcome = action()
    except StartupError as exc:
        raise StartupError(f"startup step {number} ({name}) failed: {exc}") from exc
    except OSError as exc:
        raise StartupError(
            f"startup step {number} ({name}) failed: {exc}. Check that the path exists "
            "and is writable by this user."
        ) from exc
    log.info("step %d %s: %s", number, name, outcome)


def open_storage(settings: Settings) -> AppContext:
    """Data dir, database, migrations, secret key and signing key: what every command needs."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    ensure_runtime_dir(settings.runtime_dir)
    engine = make_engine(settings.effective_database_url)
    try:
        migrate(engine)
    except Exception as exc:
        raise StartupError(
            f"cannot open or migrate the database ({engine.url.render_as_string()}): {exc}"
        ) from exc
    box = SecretBox.from_settings(settings)
    meta = MetaStore(engine, box)
    users = UserService(
        engine,
        meta,
        LoginThrottle(settings.login_max_failures, settings.login_window_seconds),
        timedelta(hours=settings.token_ttl_hours),
    )
    users.ensure_signing_key()
    return AppContext(
        settings=settings, engine=engine, meta=meta, users=users, boot_id=secrets.token_hex(8)
    )


def prepare(settings: Settings) -> AppContext:
    """Steps 1 to 9 up to starting the job engine; synchronous, run in a thread."""
    holder: list[AppContext] = []

    def database() -> str:
        holder.append(open_storage(settings))
        return f"{holder[0].engine.url.render_as_string()} at the newest schema"

    _step(1, "settings", lambda: f"data dir {settings.data_dir}")
    _step(2, "database", database)
    ctx = holder[0]

    def hostname() -> str:
        name = settings.host_hostname or socket.gethostname()
        if ctx.meta.get(keys.HOST_HOSTNAME) != name:
            ctx.meta.set(keys.HOST_HOSTNAME, name)
        return name

    def vault() -> str:
        path = write_vault_file(ctx)
        return f"written to {path}" if path else "no vault password known yet"

    _step(7, "host name", hostname)
    _step(8, "vault password file", vault)
    return ctx


async def start_background(ctx: AppContext, app: FastAPI) -> None:
    """Step 9: recover jobs left by an earlier process and start the job engine."""


async def shutdown(ctx: AppContext, app: FastAPI) -> None:
    remove_vault_file(ctx)
    ctx.engine.dispose()
