"""Fixtures of the security tests: a lab with hostile services, known secrets, snapshots.

Every test gets its own data dir, database (SQLite and PostgreSQL through
`database_url`), lab and app. Secrets are chosen to be hard to mask: shell and
regex metacharacters, quotes and backreferences, so a masker that used a regex
or a shell would visibly fail.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from cloudlabmanager.app import create_app
from cloudlabmanager.config import Settings
from cloudlabmanager.context import AppContext
from cloudlabmanager.storage.tables import jobs, users
from tests.conftest import ADMIN
from tests.labs import write_test_lab

VULTR_KEY = "vk-Zq9$(id)-`uname`-end"
CLOUDFLARE_TOKEN = "cf-tok-'quoted'\"double\"-\\1-.*"

# Printed by the hostile service: every kind of output a compromised job could send.
HOSTILE_SCRIPT = r"""
printf '\033[31mred\033[0m plain\n'
printf '\033]8;;javascript:alert(1)\033\\click me\033]8;;\033\\\n'
printf '\033]0;window title\007after title\n'
printf '<script>alert(document.cookie)</script></pre><img src=x onerror=alert(1)>\n'
printf '"}]},{"status":"completed","injected":true\n'
printf 'line\342\200\250separator and \342\200\251 paragraph\n'
printf 'bad bytes: \377\376 \300\257 \355\240\200 end\n'
printf 'nul\000inside\n'
printf 'data: forged-data\n'
printf 'event: done\n'
printf 'id: 424242\n'
printf 'retry: 1\n'
printf ': comment\n'
printf 'cr\rdata: forged-after-cr\revent: status\n'
printf 'DEPLOYMENT_ID=<b>dep</b>\n'
printf 'vault-before-cut: %s' "$(cat "$ANSIBLE_VAULT_PASSWORD_FILE")"
head -c 1048576 /dev/zero | tr '\0' 'y'
printf '\n'
printf 'no final newline <b>bold</b>'
"""

# Prints every secret the job can see, in every form a tool might print it.
SECRETS_SCRIPT = r"""
V="$(cat "$ANSIBLE_VAULT_PASSWORD_FILE")"
echo "plain: $V"
ENCODE='import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read().strip(), safe=""))'
printf 'urlencoded: %s\n' "$(python3 -c "$ENCODE" < "$ANSIBLE_VAULT_PASSWORD_FILE")"
echo "vultr: $VULTR_API_KEY"
echo "cloudflare: $CLOUDFLARE_API_TOKEN"
echo "twice: $V$V"
echo "ready"
sleep 1.5
echo "after sleep"
"""


# Prints about 40 MB: enough to fill a small disk under the database.
FILLER_SCRIPT = r"""
echo "filling"
python3 -c 'import sys; line = "z" * 200 + "\n"; sys.stdout.write(line * 200_000)'
echo "filled"
"""


def write_security_lab(root: Path) -> Path:
    write_test_lab(root)
    scripts = (("hostile", HOSTILE_SCRIPT), ("secrets", SECRETS_SCRIPT), ("filler", FILLER_SCRIPT))
    for name, body in scripts:
        service = root / "services" / name
        service.mkdir(parents=True, exist_ok=True)
        (service / "deploy.sh").write_text("set -u\n" + textwrap.dedent(body))
    return root


@pytest.fixture
def lab_dir(tmp_path: Path) -> Path:
    return write_security_lab(tmp_path / "lab")


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """A file that only an executed payload would create."""
    return tmp_path / "pwned"


@pytest.fixture
def hostile_vault(marker: Path) -> str:
    """A vault password full of shell and regex metacharacters."""
    return f"$(touch {marker}) `touch {marker}` ';touch {marker};' \"\\1\" .* [a-z]+ %s {{x}} &&"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(
        CLM_DATABASE_URL=database_url,
        VULTR_API_KEY=VULTR_KEY,
        CLOUDFLARE_API_TOKEN=CLOUDFLARE_TOKEN,
        CLM_CANCEL_GRACE=1,
    )


@pytest.fixture
def admin_client(client: TestClient, hostile_vault: str) -> TestClient:
    """Signed in as the first admin, whose vault password is the hostile one."""
    answer = client.post("/api/auth/setup", json={**ADMIN, "vault_password": hostile_vault})
    assert answer.status_code == 200, answer.text
    client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    client.cookies.clear()  # the header is the only credential unless a test adds the cookie
    return client


def context(client: TestClient) -> AppContext:
    ctx: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return ctx


@dataclass(frozen=True)
class Snapshot:
    """What exists: files under the watched roots, users, jobs."""

    files: frozenset[str]
    users: tuple[str, ...]
    jobs: tuple[int, ...]


IGNORED_SUFFIXES = ("-wal", "-shm", "-journal", ".db")


def _files(roots: list[Path]) -> frozenset[str]:
    found: set[str] = set()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                if not path.endswith(IGNORED_SUFFIXES):
                    found.add(path)
    return frozenset(found)


def snapshot(client: TestClient, tmp_path: Path) -> Snapshot:
    ctx = context(client)
    with ctx.engine.connect() as conn:
        job_ids = tuple(conn.scalars(select(jobs.c.id).order_by(jobs.c.id)))
        usernames = tuple(conn.scalars(select(users.c.username).order_by(users.c.id)))
    return Snapshot(files=_files([tmp_path]), users=usernames, jobs=job_ids)


def assert_refused(answer: Response, status: int, *raw: str) -> None:
    """Exactly this status, a `{"detail": text}` body, and none of `raw` echoed back."""
    assert answer.status_code == status, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("application/json"), answer.headers
    body: Any = answer.json()
    assert isinstance(body, dict) and set(body) <= {"detail", "job_id"}, body
    assert isinstance(body["detail"], str) and body["detail"], body
    for text in raw:
        if len(text) >= 3:
            assert text not in answer.text, (text, answer.text[:300])


@pytest.fixture
def watched_root(tmp_path: Path) -> Path:
    """Where a test's files live: data dir, lab, database; nothing may appear here."""
    return tmp_path


@pytest.fixture
def unchanged(admin_client: TestClient, watched_root: Path, marker: Path) -> Iterator[None]:
    """Asserts after the test that no file, user or job appeared and no payload ran."""
    before = snapshot(admin_client, watched_root)
    yield
    after = snapshot(admin_client, watched_root)
    assert after.jobs == before.jobs == ()
    assert admin_client.get("/api/jobs").json()["jobs"] == []
    assert after.users == before.users
    assert sorted(after.files - before.files) == []
    assert not marker.exists()


@dataclass(frozen=True)
class SharedServer:
    client: TestClient
    root: Path
    marker: Path
    vault: str


def _module_database(kind: str, root: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{root / 'test.db'}"
        return
    from tests.conftest import new_postgres_database

    with new_postgres_database() as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedServer]:
    """One app per module and database, for large matrices of requests that must change
    nothing: each case still checks, before and after, that nothing changed."""
    root = tmp_path_factory.mktemp("shared")
    marker = root / "pwned"
    vault = f'$(touch {marker}) `touch {marker}` "\\1" .* [a-z]+ %s'
    lab = write_security_lab(root / "lab")
    for url in _module_database(request.param, root):
        settings = Settings(
            _env_file=None,
            CLM_DATA_DIR=str(root / "data"),
            CLM_LAB=str(lab),
            CLM_SANDBOX=False,
            LOCAL_MODE=True,
            HOST_HOSTNAME="test-host",
            CLM_DATABASE_URL=url,
            VULTR_API_KEY=VULTR_KEY,
            CLOUDFLARE_API_TOKEN=CLOUDFLARE_TOKEN,
        )
        with TestClient(create_app(settings)) as client:
            answer = client.post("/api/auth/setup", json={**ADMIN, "vault_password": vault})
            assert answer.status_code == 200, answer.text
            client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
            client.cookies.clear()
            yield SharedServer(client, root, marker, vault)
