"""Dockerfile and docker-compose.yaml: docker is not here, so their content is checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from cloudlabmanager.config import Settings
from cloudlabmanager.lab.links import LINK_NAMES

ROOT = Path(__file__).resolve().parents[2]
SPEC_SECTION_7 = (
    "CLM_DATA_DIR",
    "CLM_DATABASE_URL",
    "CLM_LAB",
    "CLM_SANDBOX",
    "CLM_LINK_ROOT",
    "HOST_HOSTNAME",
    "CLOUDFLARE_API_TOKEN",
    "VAULT_PASSWORD",
    "LOCAL_MODE",
    "ALLOWED_ORIGINS",
)
_DEFAULTED = re.compile(r"\$\{([A-Z_]+)(?::?-([^}]*))?\}")


def _service() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    service: dict[str, Any] = compose["services"]["cloudlabmanager"]
    return service


def _settings_aliases() -> set[str]:
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None) or []
        names.update(str(choice) for choice in choices)
    return names


def test_compose_names_every_variable_of_spec_section_7() -> None:
    environment = _service()["environment"]
    assert isinstance(environment, dict)
    missing = [name for name in SPEC_SECTION_7 if name not in environment]
    assert missing == []
    assert set(SPEC_SECTION_7) <= _settings_aliases()


def test_compose_defaults_make_valid_settings(tmp_path: Path) -> None:
    """What the container sees when no variable is set on the host."""
    values = {
        name: _DEFAULTED.sub(lambda m: m.group(2) or "", str(value))
        for name, value in _service()["environment"].items()
    }
    values["CLM_DATA_DIR"] = str(tmp_path)
    settings = Settings(_env_file=None, **values)
    assert settings.link_root is True
    assert settings.local_mode is False
    assert settings.vault_password is None or settings.vault_password.get_secret_value() == ""


def test_compose_mounts_the_originals_volumes() -> None:
    volumes = _service()["volumes"]
    assert "./data:/data" in volumes
    assert any(v.endswith(":/vault:ro") for v in volumes)
    assert any(v.split(":")[1].startswith("/app/") for v in volumes)  # the settings repo


def test_dockerfile_has_the_tools_and_the_links() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    for tool in ("git", "openssh-client", "sshpass"):
        assert re.search(rf"apt-get install[^\n]*\b{tool}\b", text)
    assert "pip install --no-cache-dir ." in text
    assert "CLM_LINK_ROOT=true" in text and "CLM_DATA_DIR=/data" in text
    match = re.search(r"for name in ([^;]+);", text)
    assert match is not None
    assert sorted(match.group(1).split()) == sorted(LINK_NAMES)


def test_dockerignore_keeps_data_and_secrets_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", "data", ".env"):
        assert entry in ignored
