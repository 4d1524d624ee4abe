"""The shared objects of one running server, made by the bootstrap, held by the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from cloudlabmanager.auth.users import UserService
from cloudlabmanager.config import Settings
from cloudlabmanager.storage.meta import MetaStore

if TYPE_CHECKING:
    from cloudlabmanager.jobs.engine import JobEngine


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    meta: MetaStore
    users: UserService
    boot_id: str
    lab_dir: Path | None = None
    vault_file: Path | None = None
    # Extra environment for job steps (the sandbox's endpoints when it is on).
    step_env: dict[str, str] = field(default_factory=dict)
    jobs: JobEngine | None = None
    # From the startup actions of this boot: ENV values (secrets among them, never
    # logged) and the lab's DNS base name (core settings, else config.yml domain_name).
    startup_env: dict[str, str] = field(default_factory=dict)
    dns_basename: str | None = None
