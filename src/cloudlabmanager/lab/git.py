"""The git helper: URL checks, a locked-down environment, clone, fast-forward, init.

Every call is an argv list through `run_command` (timeout, own process group,
always reaped). Hooks are off, prompts are off, user and system git config are
ignored, and only the transports we allow may run, submodules included.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cloudlabmanager.errors import StartupError
from cloudlabmanager.lab.process import CommandMissing, CommandTimeout, run_command

NETWORK_SCHEMES = ("https", "http", "ssh", "git", "git+ssh", "ssh+git")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_TRANSPORT_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_SCP_LIKE = re.compile(r"^(?:([^@/:]+)@)?([^@/:]+):(?!//)(.*)$")
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_COMMITTER = ("-c", "user.name=CloudLab Manager", "-c", "user.email=cloudlabmanager@localhost")


class GitError(StartupError):
    """A git command failed; the message is already redacted."""


def redact_url(text: str) -> str:
    """Hide `user:pass@` of every URL in text (git echoes URLs in its messages)."""
    return _USERINFO.sub("***@", text)


def check_git_url(url: str, *, allow_file: bool = False) -> str:
    """Return url if it is safe to hand to git; raise StartupError saying why not."""
    shown = redact_url(url)
    if not url or url != url.strip():
        raise StartupError(f"git URL {shown!r} is empty or has surrounding blanks")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise StartupError(f"git URL {shown!r} contains a newline, NUL or control character")
    if url.startswith("-"):
        raise StartupError(f"git URL {shown!r} starts with '-', which git would read as an option")
    if _TRANSPORT_HELPER.match(url):
        raise StartupError(
            f"git URL {shown!r} uses a '<transport>::' form (ext::, fd::, …); "
            "use an https:// or ssh:// URL"
        )
    scheme_match = _SCHEME.match(url)
    if scheme_match:
        scheme = scheme_match.group(1).lower()
        if scheme == "file":
            if not allow_file:
                raise StartupError(
                    f"git URL {shown!r} uses file://; set CLM_GIT_ALLOW_FILE_URLS=true to "
                    "clone from a local repository, or set CLM_LAB to a directory to use it "
                    "in place"
                )
            return url
        if scheme not in NETWORK_SCHEMES:
            raise StartupError(
                f"git URL {shown!r} uses the unsupported scheme {scheme!r}; "
                f"use one of {', '.join(NETWORK_SCHEMES)}"
            )
        netloc = urlsplit(url).netloc
        # ssh would read a user, host or port that starts with '-' as an option.
        if not netloc or netloc.startswith("-") or re.search(r"[@:\[]-", netloc):
            raise StartupError(
                f"git URL {shown!r} has a missing host, or a user, host or port starting with '-'"
            )
        return url
    scp = _SCP_LIKE.match(url)
    if scp:
        user, host = scp.group(1) or "", scp.group(2)
        path = scp.group(3)
        if host.startswith("-") or user.startswith("-") or not path or path.startswith("-"):
            raise StartupError(f"git URL {shown!r} has a host, user or path starting with '-'")
        return url
    raise StartupError(
        f"git URL {shown!r} is neither an https://, ssh:// or git@host:path URL nor a directory"
    )


def _reason(stderr: str) -> str:
    """The line of git's error output that says what went wrong.

    git ends a failed fetch with advice ("and the repository exists."); the cause is
    the first line from ssh or the first fatal/error line.
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("ssh:", "fatal:", "error:")):
            return line
    return lines[-1] if lines else "no error output"


@dataclass(frozen=True)
class GitRunner:
    """Runs git with the locked-down environment; one per startup."""

    path: str
    timeout: float
    ssh_key: Path | None = None
    known_hosts: Path | None = None
    allow_file: bool = False
    extra_env: tuple[tuple[str, str], ...] = ()
    # An operator's own GIT_SSH_COMMAND (a startup actions ENV line) replaces ours.
    ssh_command: str | None = None

    def env(self) -> dict[str, str]:
        env = dict(self.extra_env)
        protocols = "https:http:ssh:git" + (":file" if self.allow_file else "")
        env.update(
            PATH=self.path,
            LANG="C.UTF-8",
            GIT_TERMINAL_PROMPT="0",
            GIT_ASKPASS="/bin/false",
            SSH_ASKPASS="/bin/false",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL="/dev/null",
            GIT_ALLOW_PROTOCOL=protocols,
        )
        env.pop("GIT_CONFIG_PARAMETERS", None)
        ssh = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new"]
        if self.known_hosts is not None:
            ssh += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
        if self.ssh_key is not None:
            ssh += ["-i", str(self.ssh_key), "-o", "IdentitiesOnly=yes"]
        # git runs GIT_SSH_COMMAND through a shell: every word is quoted.
        env["GIT_SSH_COMMAND"] = self.ssh_command or shlex.join(ssh)
        return env

    def run(self, args: list[str], *, cwd: Path, what: str) -> str:
        argv = ["git", "-c", "core.hooksPath=/dev/null", "-c", "protocol.ext.allow=never"]
        # The data dir may belong to another uid (a mounted volume): trust only this repo.
        argv += ["-c", f"safe.directory={cwd}", *args]
        try:
            done = run_command(argv, cwd=cwd, env=self.env(), timeout=self.timeout)
        except CommandTimeout as exc:
            raise GitError(
                f"{what}: git did not answer within {self.timeout:g} s (CLM_GIT_TIMEOUT); "
                "check that the server is reachable"
            ) from exc
        except CommandMissing as exc:
            raise GitError(f"{what}: git is not installed or not on PATH") from exc
        if not done.succeeded:
            detail = redact_url(_reason(done.stderr))
            raise GitError(f"{what}: git exited with {done.returncode}: {detail}")
        return done.stdout.strip()

    def clone(self, url: str, dest: Path) -> str:
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.run(
            ["clone", "--no-recurse-submodules", "--", url, str(dest)],
            cwd=dest.parent,
            what=f"cloning {redact_url(url)} into {dest}",
        )
        return self.head(dest)

    def origin_url(self, repo: Path) -> str | None:
        try:
            return self.run(["config", "--get", "remote.origin.url"], cwd=repo, what="origin")
        except GitError:
            return None

    def head(self, repo: Path) -> str:
        return self.run(["rev-parse", "--short", "HEAD"], cwd=repo, what=f"reading {repo}")

    def fast_forward(self, repo: Path, url: str) -> tuple[str, str]:
        """Fetch origin and fast-forward the current branch; (old, new) short ids."""
        before = self.head(repo)
        shown = redact_url(url)
        self.run(["fetch", "--prune", "origin"], cwd=repo, what=f"fetching {shown} in {repo}")
        self.run(
            ["merge", "--ff-only", "@{upstream}"],
            cwd=repo,
            what=f"fast-forwarding {repo} (local changes or a rewritten history stop this)",
        )
        return before, self.head(repo)

    def init_with_snapshot(self, repo: Path, message: str) -> str:
        """Make repo (already filled) a git repository with one commit of its files."""
        self.run(["init", "--quiet"], cwd=repo, what=f"git init in {repo}")
        self.run(["add", "--all", "--", "."], cwd=repo, what=f"git add in {repo}")
        self.run(
            [*_COMMITTER, "commit", "--quiet", "--no-verify", "-m", message],
            cwd=repo,
            what=f"git commit in {repo}",
        )
        return self.head(repo)
