"""The vault password: stored encrypted, handed to Ansible as a private 0600 file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cloudlabmanager.context import AppContext
from cloudlabmanager.storage import meta as keys
from cloudlabmanager.storage.secretbox import write_private_file

VAULT_FILE_NAME = "vault-password"


def ensure_runtime_dir(runtime_dir: Path) -> Path:
    runtime_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(runtime_dir, 0o700)
    return runtime_dir


def known_vault_password(ctx: AppContext) -> str | None:
    """The vault password from setup, else from `VAULT_PASSWORD`."""
    stored = ctx.meta.get_secret(keys.VAULT_PASSWORD)
    if stored is not None:
        return stored
    env = ctx.settings.vault_password
    # VAULT_PASSWORD= (empty, as compose files write unset variables) means none.
    return env.get_secret_value() or None if env is not None else None


def write_vault_file(ctx: AppContext) -> Path | None:
    """(Re)write the password file; 0600 and not executable (Ansible would run it)."""
    password = known_vault_password(ctx)
    if password is None:
        remove_vault_file(ctx)
        return None
    path = ensure_runtime_dir(ctx.settings.runtime_dir) / VAULT_FILE_NAME
    write_private_file(path, password.encode() + b"\n")
    ctx.vault_file = path
    return path


def store_vault_password(ctx: AppContext, password: str) -> None:
    ctx.meta.set_secret(keys.VAULT_PASSWORD, password)
    write_vault_file(ctx)


def remove_vault_file(ctx: AppContext) -> None:
    path = ctx.settings.runtime_dir / VAULT_FILE_NAME
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    ctx.vault_file = None
