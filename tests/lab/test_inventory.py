"""lab/inventory.py: vultr.yml parsed, secrets masked at any depth, the cache and its time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from cloudlabmanager.bootstrap import open_storage
from cloudlabmanager.config import Settings
from cloudlabmanager.context import AppContext
from cloudlabmanager.lab.inventory import (
    InventoryError,
    is_secret_key,
    read_instances,
    redact,
    refresh_instances_cache,
    remove_cached_host,
    store_instances_cache,
)
from cloudlabmanager.storage import meta as keys
from tests.lab.labkit import write

SECRETS = ["r00t-Pa55", "become-pw-1", "ssh-pw-2", "tok-3", "-----BEGIN OPENSSH PRIVATE KEY-----x"]

INVENTORY = {
    "all": {
        "vars": {"ansible_become_pass": "become-pw-1", "domain": "lab.test"},
        "hosts": {
            "testUbuntu": {
                "ansible_host": "203.0.113.10",
                "vultr_id": "abc-123",
                "vultr_label": "testUbuntu",
                "vultr_region": "mel",
                "vultr_plan": "vc2-1c-1gb",
                "vultr_os": "Ubuntu 24.04 LTS x64",
                "vultr_power_status": "running",
                "vultr_tags": ["test-ubuntu"],
                "root_password": "r00t-Pa55",
                "extra": {"nested": [{"ansible_ssh_pass": "ssh-pw-2"}], "note": SECRETS[4]},
            },
            "vault": {"ansible_host": "203.0.113.11", "vultr_region": "ams", "api_token": "tok-3"},
        },
        "children": {
            "web": {"hosts": {"web9": {"ansible_host": "203.0.113.12", "hostname": "www"}}},
        },
    }
}


@pytest.fixture
def ctx(lab_settings: Callable[..., Settings], local_lab: Path) -> AppContext:
    context = open_storage(lab_settings())
    context.lab_dir = local_lab.resolve()
    return context


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "root_password",
        "ansible_become_pass",
        "ansible_ssh_pass",
        "ansible_password",
        "passwd",
        "api_token",
        "VULTR_API_KEY",
        "ssh_key",
        "private_key",
        "ansible_ssh_private_key_file",
        "client_secret",
        "vault_password",
        "key",
        "db_pass",
    ],
)
def test_secret_looking_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key", ["ansible_host", "vultr_id", "vultr_tags", "hostname", "keyLocation"]
)
def test_ordinary_keys(key: str) -> None:
    assert not is_secret_key(key)


def test_redaction_is_recursive() -> None:
    value = redact({"a": [{"b": {"password": {"deep": "x"}}, "token": None}], "c": "ok"})
    assert value == {"a": [{"b": {"password": "********"}, "token": None}], "c": "ok"}


def test_refresh_reads_hosts_and_masks_secrets(ctx: AppContext) -> None:
    assert ctx.lab_dir is not None
    write(ctx.lab_dir / "inventory" / "vultr.yml", yaml.safe_dump(INVENTORY))
    refresh_instances_cache(ctx)
    view = read_instances(ctx)
    stored = ctx.meta.get(keys.INSTANCES_CACHE) or ""
    for secret in SECRETS:
        assert secret not in stored
        assert secret not in repr(view)
    hosts = {h.label: h for h in view.hosts}
    assert sorted(hosts) == ["testUbuntu", "vault", "web9"]
    ubuntu = hosts["testUbuntu"]
    assert (ubuntu.ip, ubuntu.region, ubuntu.plan, ubuntu.os, ubuntu.power_status) == (
        "203.0.113.10",
        "mel",
        "vc2-1c-1gb",
        "Ubuntu 24.04 LTS x64",
        "running",
    )
    assert ubuntu.tags == ["test-ubuntu"]
    assert ubuntu.hostname == "test"  # from services/test-ubuntu/instance.yaml
    assert hosts["web9"].hostname == "www"  # from the inventory's vars
    host_vars = view.instances["all"]["hosts"]
    assert host_vars["testUbuntu"]["root_password"] == "********"
    assert host_vars["vault"]["ansible_host"] == "203.0.113.11"  # a host named vault stays
    assert view.instances["all"]["vars"]["domain"] == "lab.test"
    assert view.cached_at is not None


def test_a_missing_inventory_stores_an_empty_one(ctx: AppContext) -> None:
    assert read_instances(ctx).cached_at is None
    refresh_instances_cache(ctx)
    view = read_instances(ctx)
    assert (view.instances, view.hosts) == ({}, [])
    assert view.cached_at is not None


def test_a_broken_inventory_is_refused_and_the_old_cache_kept(ctx: AppContext) -> None:
    assert ctx.lab_dir is not None
    write(ctx.lab_dir / "inventory" / "vultr.yml", yaml.safe_dump(INVENTORY))
    refresh_instances_cache(ctx)
    write(ctx.lab_dir / "inventory" / "vultr.yml", "all: [\n")
    with pytest.raises(InventoryError):
        refresh_instances_cache(ctx)
    assert len(read_instances(ctx).hosts) == 3


def test_remove_cached_host_drops_it_from_every_group(ctx: AppContext) -> None:
    assert ctx.lab_dir is not None
    write(ctx.lab_dir / "inventory" / "vultr.yml", yaml.safe_dump(INVENTORY))
    refresh_instances_cache(ctx)
    remove_cached_host(ctx, "web9")
    remove_cached_host(ctx, "testUbuntu")
    remove_cached_host(ctx, "no-such-host")
    assert [h.label for h in read_instances(ctx).hosts] == ["vault"]


def test_a_legacy_bare_mapping_in_the_cache_is_masked_on_the_way_out(ctx: AppContext) -> None:
    ctx.meta.set_json(keys.INSTANCES_CACHE, INVENTORY)
    view = read_instances(ctx)
    assert "r00t-Pa55" not in repr(view)
    assert len(view.hosts) == 3
    store_instances_cache(ctx, INVENTORY)
    assert "r00t-Pa55" not in (ctx.meta.get(keys.INSTANCES_CACHE) or "")
