"""The original's startup actions file and the settings file it returns.

`<data>/startup_action.conf.yaml` is a mapping whose values are lists of lines:
`ENV KEY=VALUE`, `CLONE <url> [dir]`, `RUN <command>`, `RETURN <path>`. Lines run
in order in the startup directory; RETURN names the settings file
(`git_url`, `git_key`, `core_settings`) and ends the file, as in the original.
RUN is split with shlex and runs without a shell. ENV values stay in this boot's
context (they reach RUN, CLONE and the lab source), never `os.environ`, and are
never logged: they are usually secrets.
"""

from __future__ import annotations

import logging
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudlabmanager.config import Settings
from cloudlabmanager.errors import StartupError
from cloudlabmanager.lab.git import GitError, GitRunner, check_git_url, redact_url
from cloudlabmanager.lab.process import CommandMissing, CommandTimeout, run_command
from cloudlabmanager.lab.yamlfile import YamlFileError, load_yaml_file

ACTIONS_FILE = "startup_action.conf.yaml"
MAX_FILE_BYTES = 1024 * 1024
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
MASK = "********"

log = logging.getLogger("cloudlabmanager.startup")


@dataclass
class StartupOutcome:
    env: dict[str, str] = field(default_factory=dict)
    settings_file: Path | None = None
    git_url: str | None = None
    git_key: Path | None = None
    dns_basename: str | None = None
    actions_run: int = 0


def startup_dir(settings: Settings) -> Path:
    return (settings.startup_dir or settings.data_dir / "startup").resolve()


def _mask(text: str, env: dict[str, str]) -> str:
    for value in sorted(env.values(), key=len, reverse=True):
        if len(value) >= 4:
            text = text.replace(value, MASK)
    return redact_url(text)


class _Actions:
    def __init__(self, settings: Settings, source: Path) -> None:
        self.settings = settings
        self.source = source
        self.workdir = startup_dir(settings)
        self.outcome = StartupOutcome()

    def where(self, group: str, index: int) -> str:
        return f"{self.source} ({group!s}, line {index + 1})"

    def child_env(self) -> dict[str, str]:
        env = {
            "PATH": self.settings.child_path,
            "HOME": self.settings.child_home or str(self.workdir),
            "LANG": "C.UTF-8",
        }
        env.update(self.outcome.env)
        return env

    def set_env(self, rest: str, where: str) -> None:
        key, sep, value = rest.partition("=")
        key = key.strip()
        if not sep or not _ENV_KEY.fullmatch(key):
            raise StartupError(f"{where}: ENV needs KEY=VALUE with a plain variable name")
        self.outcome.env[key] = value
        log.debug("startup action ENV %s set", key)

    def clone(self, rest: str, where: str) -> None:
        try:
            words = shlex.split(rest)
        except ValueError as exc:
            raise StartupError(f"{where}: CLONE line cannot be split: {exc}") from None
        if len(words) not in (1, 2):
            raise StartupError(f"{where}: CLONE takes a URL and an optional directory")
        try:
            url = check_git_url(words[0], allow_file=self.settings.git_allow_file_urls)
        except StartupError as exc:
            raise StartupError(f"{where}: {exc}") from None
        name = words[1] if len(words) == 2 else url.rstrip("/").rsplit("/", 1)[-1]
        name = name.rsplit(":", 1)[-1].removesuffix(".git")
        dest = (self.workdir / name).resolve()
        if not name or name.startswith("-") or not dest.is_relative_to(self.workdir):
            raise StartupError(f"{where}: CLONE target {name!r} is not inside {self.workdir}")
        git = GitRunner(
            path=self.settings.child_path,
            timeout=self.settings.git_timeout,
            allow_file=self.settings.git_allow_file_urls,
            extra_env=tuple(self.outcome.env.items()),
            ssh_command=self.outcome.env.get("GIT_SSH_COMMAND"),
        )
        if (dest / ".git").exists():
            try:
                git.fast_forward(dest, url)
            except GitError as exc:
                log.warning(
                    "%s: keeping the existing %s: %s",
                    where,
                    dest,
                    _mask(str(exc), self.outcome.env),
                )
            return
        try:
            git.clone(url, dest)
        except GitError as exc:
            raise StartupError(f"{where}: {_mask(str(exc), self.outcome.env)}") from None

    def run(self, rest: str, where: str) -> None:
        try:
            argv = shlex.split(rest)
        except ValueError as exc:
            raise StartupError(f"{where}: RUN line cannot be split: {exc}") from None
        if not argv:
            raise StartupError(f"{where}: RUN needs a command")
        program = Path(argv[0]).name
        log.debug("startup action RUN %s", _mask(program, self.outcome.env))
        try:
            done = run_command(
                argv,
                cwd=self.workdir,
                env=self.child_env(),
                timeout=self.settings.startup_action_timeout,
            )
        except (CommandTimeout, CommandMissing) as exc:
            raise StartupError(
                f"{where}: {_mask(str(exc), self.outcome.env)} "
                "(CLM_STARTUP_ACTION_TIMEOUT sets the limit)"
            ) from None
        if not done.succeeded:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            detail = _mask(lines[-1], self.outcome.env) if lines else "no error output"
            raise StartupError(
                f"{where}: {_mask(program, self.outcome.env)} exited with "
                f"{done.returncode}: {detail}"
            )

    def execute(self, actions: dict[Any, Any]) -> Path | None:
        for group, lines in actions.items():
            if lines is None:
                continue
            if not isinstance(lines, list):
                raise StartupError(f"{self.source}: {group!s} must be a list of lines")
            for index, line in enumerate(lines):
                where = self.where(str(group), index)
                if line is None:
                    continue
                if not isinstance(line, str):
                    raise StartupError(f"{where}: each action must be a line of text")
                if "\x00" in line or "\n" in line.strip():
                    raise StartupError(f"{where}: an action must be a single line")
                stripped = line.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                word, _, rest = stripped.partition(" ")
                self.outcome.actions_run += 1
                if word == "ENV":
                    self.set_env(rest, where)
                elif word == "CLONE":
                    self.clone(rest.strip(), where)
                elif word == "RUN":
                    self.run(rest.strip(), where)
                elif word == "RETURN":
                    return self.resolve(rest.strip(), where)
                else:
                    raise StartupError(
                        f"{where}: unknown action {word[:20]!r}; use ENV, CLONE, RUN or RETURN"
                    )
        return None

    def resolve(self, value: str, where: str) -> Path:
        if not value:
            raise StartupError(f"{where}: a path is missing")
        return (self.workdir / Path(value).expanduser()).resolve()


def _load_mapping(path: Path, what: str) -> dict[Any, Any]:
    try:
        value = load_yaml_file(path, MAX_FILE_BYTES)
    except YamlFileError as exc:
        raise StartupError(f"{what} {path}: {exc}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StartupError(f"{what} {path} must be a YAML mapping")
    return value


def _optional_str(mapping: dict[Any, Any], key: str, path: Path) -> str | None:
    value = mapping.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise StartupError(f"{path}: {key} must be a string")
    return value


def _read_settings_file(actions: _Actions, path: Path) -> None:
    outcome = actions.outcome
    data = _load_mapping(path, "the startup settings file (RETURN)")
    outcome.settings_file = path
    outcome.git_url = _optional_str(data, "git_url", path)
    key = _optional_str(data, "git_key", path)
    outcome.git_key = actions.resolve(key, str(path)) if key else None
    core: Any = data.get("core_settings")
    if isinstance(core, str) and core:
        core = _load_mapping(actions.resolve(core, str(path)), "the core settings file")
    if core is not None and not isinstance(core, dict):
        raise StartupError(f"{path}: core_settings must name a YAML file or be a mapping")
    if core:
        outcome.dns_basename = _optional_str(core, "dns_basename", path)


def run_startup_actions(settings: Settings) -> StartupOutcome:
    """Run `<data>/startup_action.conf.yaml` if present; an empty outcome otherwise."""
    source = settings.data_dir / ACTIONS_FILE
    actions = _Actions(settings, source)
    if not source.exists():
        return actions.outcome
    data = _load_mapping(source, "the startup actions file")
    actions.workdir.mkdir(parents=True, exist_ok=True)
    returned = actions.execute(data)
    if returned is not None:
        _read_settings_file(actions, returned)
    return actions.outcome
