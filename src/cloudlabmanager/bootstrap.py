"""The startup sequence (SPEC section 6) as numbered, idempotent steps.

Each step logs one line. A failing step raises StartupError with a message that
names the step, the file or URL, and what to do; the server then does not start.
Blocking steps run in a worker thread; only the Cloudflare lookup is async (it
may be answered in-process by the sandbox app before the server listens).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from fastapi import FastAPI

from cloudlabmanager.auth.throttle import LoginThrottle
from cloudlabmanager.auth.users import UserService
from cloudlabmanager.config import Settings
from cloudlabmanager.context import AppContext
from cloudlabmanager.errors import AppError, StartupError
from cloudlabmanager.jobs.engine import JobEngine
from cloudlabmanager.lab.cloudflare import find_zone_id
from cloudlabmanager.lab.links import LINK_NAMES, create_links
from cloudlabmanager.lab.source import prepare_lab
from cloudlabmanager.lab.startup_actions import StartupOutcome, run_startup_actions
from cloudlabmanager.lab.vault import ensure_runtime_dir, remove_vault_file, write_vault_file
from cloudlabmanager.lab.yamlfile import YamlFileError, load_yaml_file
from cloudlabmanager.sandbox import sandbox_environment
from cloudlabmanager.sandbox.app import CLOUDFLARE_PREFIX
from cloudlabmanager.storage import meta as keys
from cloudlabmanager.storage.db import make_engine, migrate
from cloudlabmanager.storage.legacy import import_legacy_database
from cloudlabmanager.storage.meta import MetaStore
from cloudlabmanager.storage.secretbox import SecretBox

log = logging.getLogger("cloudlabmanager.startup")
LEGACY_FILE = "database.json"

# `app.state.sandbox_app` answers in-process (ASGITransport, no /sandbox mount prefix).
SANDBOX_CLOUDFLARE_URL = "http://sandbox" + CLOUDFLARE_PREFIX
SANDBOX_TOKEN = "sandbox"  # noqa: S105 - the sandbox's public default key, not a secret


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


async def _astep(number: int, name: str, action: Callable[[], Awaitable[str]]) -> None:
    try:
        outcome = await action()
    except StartupError as exc:
        raise StartupError(f"startup step {number} ({name}) failed: {exc}") from exc
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


def _dns_basename(ctx: AppContext) -> str | None:
    """core_settings.dns_basename, else domain_name of the lab's config.yml."""
    if ctx.dns_basename:
        return ctx.dns_basename
    if ctx.lab_dir is None or not (ctx.lab_dir / "config.yml").exists():
        return None
    try:
        config = load_yaml_file(ctx.lab_dir / "config.yml")
    except YamlFileError as exc:
        raise StartupError(f"{ctx.lab_dir / 'config.yml'}: {exc}") from None
    domain = config.get("domain_name") if isinstance(config, dict) else None
    return domain if isinstance(domain, str) and domain else None


async def lookup_zone(ctx: AppContext, app: FastAPI | None) -> str:
    """Step 7: store the Cloudflare zone id of dns_basename (skipped in local mode)."""
    settings = ctx.settings
    if settings.local_mode:
        return "LOCAL_MODE is on: Cloudflare skipped"
    basename = await asyncio.to_thread(_dns_basename, ctx)
    if basename is None:
        raise StartupError(
            "no DNS base name: set core_settings.dns_basename in the startup settings file "
            "or domain_name in the lab's config.yml, or set LOCAL_MODE=true"
        )
    transport: httpx.AsyncBaseTransport | None = None
    if settings.sandbox_enabled:
        sandbox_app = getattr(app.state, "sandbox_app", None) if app is not None else None
        if sandbox_app is None:
            raise StartupError(
                "the sandbox is on (CLM_SANDBOX) but its app is not mounted; "
                "set LOCAL_MODE=true or CLM_SANDBOX=false"
            )
        transport = httpx.ASGITransport(app=sandbox_app)
        url, token, token_name = SANDBOX_CLOUDFLARE_URL, SANDBOX_TOKEN, "the sandbox key"
    else:
        url, token_name = settings.cloudflare_api_url, "CLOUDFLARE_API_TOKEN"
        secret = settings.cloudflare_api_token
        token = secret.get_secret_value() if secret else ctx.startup_env.get(token_name, "")
        if not token:
            raise StartupError(
                f"CLOUDFLARE_API_TOKEN is not set, so the zone {basename!r} cannot be looked "
                "up; set it (Zone:Read) or set LOCAL_MODE=true"
            )
    zone_id = await find_zone_id(url, token, basename, token_name=token_name, transport=transport)
    if await asyncio.to_thread(ctx.meta.get, keys.DNS_ZONE_ID) != zone_id:
        await asyncio.to_thread(ctx.meta.set, keys.DNS_ZONE_ID, zone_id)
    return f"Cloudflare zone {basename} is {zone_id}"


def _lab_steps(ctx: AppContext) -> None:
    """Steps 4 to 6: everything there blocks, so they run in one worker thread."""
    settings = ctx.settings
    outcome = StartupOutcome()

    def startup_actions() -> str:
        nonlocal outcome
        outcome = run_startup_actions(settings)
        ctx.startup_env = dict(outcome.env)
        ctx.dns_basename = outcome.dns_basename
        if outcome.actions_run == 0 and outcome.settings_file is None:
            return "no startup_action.conf.yaml"
        env_keys = ", ".join(sorted(outcome.env)) or "none"
        return (
            f"{outcome.actions_run} actions; ENV keys: {env_keys}; settings file "
            f"{outcome.settings_file or 'none'}"
        )

    def lab_source() -> str:
        prepared = prepare_lab(settings, outcome)
        ctx.lab_dir = prepared.directory
        return prepared.summary

    def links() -> str:
        if not settings.link_root:
            return "off (CLM_LINK_ROOT)"
        assert ctx.lab_dir is not None
        skipped = create_links(ctx.lab_dir, settings.link_root_dir)
        made = len(LINK_NAMES) - len(skipped)
        note = f"; skipped {', '.join(skipped)}" if skipped else ""
        return f"{made} links in {settings.link_root_dir} to {ctx.lab_dir}{note}"

    _step(4, "startup actions", startup_actions)
    _step(5, "lab source", lab_source)
    _step(6, "container links", links)


def record_hostname(ctx: AppContext) -> str:
    settings = ctx.settings
    name = settings.host_hostname or ctx.startup_env.get("HOST_HOSTNAME") or socket.gethostname()
    if ctx.meta.get(keys.HOST_HOSTNAME) != name:
        ctx.meta.set(keys.HOST_HOSTNAME, name)
    return name


async def prepare(settings: Settings, app: FastAPI | None = None) -> AppContext:
    """Steps 1 to 8, up to starting the job engine. app supplies the sandbox, if any."""
    holder: list[AppContext] = []

    def database() -> str:
        holder.append(open_storage(settings))
        return f"{holder[0].engine.url.render_as_string()} at the newest schema"

    _step(1, "settings", lambda: f"data dir {settings.data_dir}")
    await asyncio.to_thread(_step, 2, "database", database)
    ctx = holder[0]
    try:
        await asyncio.to_thread(_step, 3, "legacy import", lambda: _legacy_import(ctx))
        await asyncio.to_thread(_lab_steps, ctx)

        async def host_and_zone() -> str:
            name = await asyncio.to_thread(record_hostname, ctx)
            return f"{name}; {await lookup_zone(ctx, app)}"

        await _astep(7, "host name and Cloudflare zone", host_and_zone)

        def vault() -> str:
            path = write_vault_file(ctx)
            return f"written to {path}" if path else "no vault password known yet"

        await asyncio.to_thread(_step, 8, "vault password file", vault)
    except BaseException:
        ctx.engine.dispose()
        raise
    return ctx


def _legacy_import(ctx: AppContext) -> str:
    """Step 3: the original's database.json, once, into a database that is still new."""
    legacy = ctx.settings.data_dir / LEGACY_FILE
    if not legacy.exists():
        return f"no {LEGACY_FILE}"
    if ctx.meta.get(keys.LEGACY_IMPORTED) is not None or ctx.users.setup_complete():
        return f"{legacy} left alone: the database is not new (use import-json --force)"
    try:
        return import_legacy_database(ctx, legacy)
    except AppError as exc:
        raise StartupError(f"{legacy}: {exc.detail}. Fix or move the file away.") from exc


async def start_background(ctx: AppContext, app: FastAPI) -> None:
    """Step 9: mark jobs of an earlier process interrupted, then start the job engine."""
    settings = ctx.settings
    if settings.sandbox_enabled:
        base = (settings.public_url or "http://127.0.0.1:8000").rstrip("/") + "/sandbox"
        ctx.step_env.update(sandbox_environment(base, settings.data_dir / "sandbox"))
    engine = JobEngine(ctx)
    interrupted = await engine.recover()
    engine.start()
    ctx.jobs = engine
    log.info(
        "step 9 job engine: started (%d at once); %d job(s) of an earlier run marked interrupted",
        settings.max_jobs,
        len(interrupted),
    )


async def shutdown(ctx: AppContext, app: FastAPI) -> None:
    """End running jobs as interrupted (output flushed), remove the vault file."""
    if ctx.jobs is not None:
        await ctx.jobs.stop()
    remove_vault_file(ctx)
    ctx.engine.dispose()
