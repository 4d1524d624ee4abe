"""lab/vault.py: the vault password file is private, rewritten, and removed."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from cloudlabmanager.bootstrap import open_storage
from cloudlabmanager.config import Settings
from cloudlabmanager.lab.vault import (
    known_vault_password,
    remove_vault_file,
    store_vault_password,
    write_vault_file,
)
from cloudlabmanager.storage import meta as keys


def test_no_password_no_file(lab_settings: Callable[..., Settings]) -> None:
    ctx = open_storage(lab_settings())
    assert write_vault_file(ctx) is None
    assert ctx.vault_file is None


def test_env_password_is_written_0600_in_a_0700_dir(lab_settings: Callable[..., Settings]) -> None:
    ctx = open_storage(lab_settings(VAULT_PASSWORD="from-env $x 'y'"))
    path = write_vault_file(ctx)
    assert path is not None and ctx.vault_file == path
    assert path.read_text() == "from-env $x 'y'\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_setup_password_replaces_env_and_is_stored_encrypted(
    lab_settings: Callable[..., Settings],
) -> None:
    ctx = open_storage(lab_settings(VAULT_PASSWORD="from-env"))
    write_vault_file(ctx)
    store_vault_password(ctx, "from-setup")
    assert known_vault_password(ctx) == "from-setup"
    assert ctx.vault_file is not None
    assert ctx.vault_file.read_text() == "from-setup\n"
    assert "from-setup" not in (ctx.meta.get(keys.VAULT_PASSWORD) or "")


def test_remove_deletes_the_file(lab_settings: Callable[..., Settings]) -> None:
    ctx = open_storage(lab_settings(VAULT_PASSWORD="pw"))
    path = write_vault_file(ctx)
    assert isinstance(path, Path)
    remove_vault_file(ctx)
    assert not path.exists()
    remove_vault_file(ctx)  # twice is fine


def test_an_empty_env_password_means_none(lab_settings: Callable[..., Settings]) -> None:
    ctx = open_storage(lab_settings(VAULT_PASSWORD=""))
    assert known_vault_password(ctx) is None
    assert write_vault_file(ctx) is None
