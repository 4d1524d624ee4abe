"""Settings: read once from the environment (and `.env`), then passed down.

Nothing else in the package reads `os.environ`; every knob lives here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BUNDLED_DEMO_LAB = Path(__file__).parent / "demo_lab"


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Every setting of SPEC section 7, plus the engine's tuning knobs."""

    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
        case_sensitive=False,
        env_ignore_empty=True,
    )

    data_dir: Path = Field(Path("./data"), validation_alias=_env("CLM_DATA_DIR"))
    database_url: str | None = Field(None, validation_alias=_env("CLM_DATABASE_URL"))
    lab: str | None = Field(None, validation_alias=_env("CLM_LAB"))
    sandbox: bool | None = Field(None, validation_alias=_env("CLM_SANDBOX"))
    link_root: bool = Field(False, validation_alias=_env("CLM_LINK_ROOT"))
    host_hostname: str | None = Field(None, validation_alias=_env("HOST_HOSTNAME"))
    cloudflare_api_token: SecretStr | None = Field(
        None, validation_alias=_env("CLOUDFLARE_API_TOKEN")
    )
    vault_password: SecretStr | None = Field(None, validation_alias=_env("VAULT_PASSWORD"))
    local_mode: bool = Field(False, validation_alias=_env("LOCAL_MODE"))
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("ALLOWED_ORIGINS")
    )

    secret_key: SecretStr | None = Field(None, validation_alias=_env("CLM_SECRET_KEY"))
    secret_key_file: Path | None = Field(None, validation_alias=_env("CLM_SECRET_KEY_FILE"))
    public_url: str | None = Field(None, validation_alias=_env("CLM_PUBLIC_URL"))
    cloudflare_api_url: str = Field(
        "https://api.cloudflare.com/client/v4", validation_alias=_env("CLM_CLOUDFLARE_API_URL")
    )
    vultr_api_key: SecretStr | None = Field(None, validation_alias=_env("VULTR_API_KEY"))
    sandbox_faults: str | None = Field(None, validation_alias=_env("CLM_SANDBOX_FAULTS"))

    max_jobs: int = Field(4, ge=1, le=64, validation_alias=_env("CLM_MAX_JOBS"))
    job_timeout: float = Field(3600.0, gt=0, validation_alias=_env("CLM_JOB_TIMEOUT"))
    ready_timeout: float = Field(120.0, gt=0, validation_alias=_env("CLM_READY_TIMEOUT"))
    cancel_grace: float = Field(10.0, ge=0, validation_alias=_env("CLM_CANCEL_GRACE"))
    max_line_bytes: int = Field(64 * 1024, ge=256, validation_alias=_env("CLM_MAX_LINE_BYTES"))
    token_ttl_hours: float = Field(24.0, gt=0, validation_alias=_env("CLM_TOKEN_TTL_HOURS"))
    max_body_bytes: int = Field(64 * 1024, ge=1024, validation_alias=_env("CLM_MAX_BODY_BYTES"))
    login_max_failures: int = Field(5, ge=1, validation_alias=_env("CLM_LOGIN_MAX_FAILURES"))
    login_window_seconds: float = Field(
        300.0, gt=0, validation_alias=_env("CLM_LOGIN_WINDOW_SECONDS")
    )
    git_timeout: float = Field(120.0, gt=0, validation_alias=_env("CLM_GIT_TIMEOUT"))
    startup_action_timeout: float = Field(
        600.0, gt=0, validation_alias=_env("CLM_STARTUP_ACTION_TIMEOUT")
    )
    log_format: Literal["text", "json"] = Field("text", validation_alias=_env("CLM_LOG_FORMAT"))
    cookie_secure: bool = Field(False, validation_alias=_env("CLM_COOKIE_SECURE"))

    # The lab (issue 3). Children (git, startup actions) get an explicit environment
    # built from these rather than a copy of the server's, so no secret leaks into them.
    child_path: str = Field(
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        validation_alias=_env("PATH"),
    )
    child_home: str | None = Field(None, validation_alias=_env("HOME"))
    # Working directory of the startup actions (CLONE, RUN, relative RETURN paths);
    # defaults to <data>/startup. The image sets /app, where the original ran them.
    startup_dir: Path | None = Field(None, validation_alias=_env("CLM_STARTUP_DIR"))
    # Where CLM_LINK_ROOT creates its links: "/" in the image, a temp dir in tests.
    link_root_dir: Path = Field(Path("/"), validation_alias=_env("CLM_LINK_ROOT_DIR"))
    # file:// (and plain-path) git URLs are refused unless this is on (local mirrors, tests).
    git_allow_file_urls: bool = Field(False, validation_alias=_env("CLM_GIT_ALLOW_FILE_URLS"))

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("allowed_origins", mode="after")
    @classmethod
    def _no_wildcard_origin(cls, value: list[str]) -> list[str]:
        # CORS here allows credentials: "*" would let every site read every answer with
        # the user's cookie (Starlette reflects the caller's origin), "null" every
        # sandboxed frame or file:// page.
        for origin in value:
            if origin in ("*", "null") or not origin.startswith(("http://", "https://")):
                raise ValueError(
                    f"ALLOWED_ORIGINS entry {origin!r} is not allowed: list exact origins "
                    "such as https://lab.example.com"
                )
        return value

    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    # PATH of job steps, exactly; unset means this Python's bin dir, then PATH.
    job_path_override: str | None = Field(None, validation_alias=_env("CLM_JOB_PATH"))

    def host_environment(self) -> dict[str, str]:
        """The server's own environment, for building a child's minimal one."""
        return dict(os.environ)

    def job_path(self) -> str:
        """PATH of job steps: the bundled Ansible (next to this Python) is found first."""
        if self.job_path_override is not None:
            return self.job_path_override
        return str(Path(sys.executable).parent) + os.pathsep + self.child_path

    @property
    def uses_demo_lab(self) -> bool:
        return not self.lab

    @property
    def sandbox_enabled(self) -> bool:
        """The sandbox defaults to on for the demo lab and off for a real lab."""
        return self.uses_demo_lab if self.sandbox is None else self.sandbox

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'cloudlabmanager.db'}"

    @property
    def runtime_dir(self) -> Path:
        """Private (0700) directory for short-lived secret files."""
        return self.data_dir / "run"
