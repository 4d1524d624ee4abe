"""What the server promises about secrets, sessions and output, checked from outside.

Each test has its own app and database (SQLite and PostgreSQL), a lab with a
hostile service, and secrets full of shell and regex metacharacters.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cloudlabmanager.app import create_app
from cloudlabmanager.config import Settings
from cloudlabmanager.storage.tables import app_meta, job_lines
from tests.conftest import ADMIN
from tests.jobwait import wait_for_job
from tests.security.conftest import CLOUDFLARE_TOKEN, VULTR_KEY, assert_refused, context

MASK = "********"


def _deploy(client: TestClient, name: str) -> int:
    answer = client.post(f"/api/services/{name}/deploy", json={})
    assert answer.status_code == 200, answer.text
    job_id: int = answer.json()["job_id"]
    return job_id


def _secrets(client: TestClient, vault: str) -> dict[str, str]:
    ctx = context(client)
    key_file = ctx.settings.data_dir / "secret.key"
    return {
        "vault": vault,
        "vultr": VULTR_KEY,
        "cloudflare": CLOUDFLARE_TOKEN,
        "admin password": ADMIN["password"],
        "signing key": ctx.users._signing_key(),
        "secret key": key_file.read_text().strip(),
        "access token": client.headers["Authorization"].removeprefix("Bearer "),
    }


# -- hostile output ----------------------------------------------------------------


def _sse_events(body: str) -> list[dict[str, list[str]]]:
    events = []
    for block in body.split("\n\n"):
        fields: dict[str, list[str]] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields.setdefault(name, []).append(value)
        if fields:
            events.append(fields)
    return events


def test_hostile_output_is_stored_and_streamed_as_inert_text(
    admin_client: TestClient, hostile_vault: str
) -> None:
    job = wait_for_job(admin_client, _deploy(admin_client, "hostile"))
    assert job["status"] == "completed", job["error"]
    out: list[str] = job["output"]
    expected = [
        "\x1b[31mred\x1b[0m plain",
        "\x1b]8;;javascript:alert(1)\x1b\\click me\x1b]8;;\x1b\\",
        "\x1b]0;window title\x07after title",
        "<script>alert(document.cookie)</script></pre><img src=x onerror=alert(1)>",
        '"}]},{"status":"completed","injected":true',
        "line\u2028separator and \u2029 paragraph",
        "nulinside",
        "data: forged-data",
        "event: done",
        "id: 424242",
        "cr\rdata: forged-after-cr\revent: status",
        "no final newline <b>bold</b>",
    ]
    for line in expected:
        assert line in out, line
    assert job["deployment_id"] == "<b>dep</b>"
    bad = next(line for line in out if line.startswith("bad bytes: "))
    assert bad.endswith(" end") and "\ufffd" in bad
    cut = next(line for line in out if line.startswith("vault-before-cut: "))
    assert cut.startswith(f"vault-before-cut: {MASK}") and "line cut" in cut
    assert len(cut) < 70_000
    assert hostile_vault not in str(job)

    # The same lines through the paged output and the stream.
    pages = admin_client.get(f"/api/jobs/{job['id']}/output?limit=1000")
    assert pages.headers["content-type"] == "application/json"
    assert [line["text"] for line in pages.json()["lines"]] == out
    with admin_client.stream("GET", f"/api/jobs/{job['id']}/stream") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert answer.headers["x-content-type-options"] == "nosniff"
        body = "".join(answer.iter_text())
    events = _sse_events(body)
    assert events[0] == {"retry": ["2000"]}
    named = [e["event"][0] for e in events if "event" in e]
    assert named.count("done") == 1 and named[-1] == "done"
    assert set(named) <= {"status", "done"}
    # No line could add a field: every event is an id plus data, or ours.
    for event in events[1:]:
        assert set(event) in ({"id", "data"}, {"event", "data"}), event
    streamed = ["\n".join(e["data"]) for e in events if "id" in e]
    assert streamed == [line.replace("\r", "\n") for line in out]
    ids = [int(e["id"][0]) for e in events if "id" in e]
    assert ids == list(range(1, len(out) + 1))


# -- secrets -----------------------------------------------------------------------


def _cmdlines() -> dict[int, str]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    raw = handle.read()
            except OSError:
                continue
            found[int(entry)] = raw.replace(b"\0", b" ").decode("utf-8", "replace")
    return found


@contextmanager
def _watch_processes() -> Iterator[set[str]]:
    """Every command line seen while the block runs, sampled continuously."""
    seen: set[str] = set()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen.update(_cmdlines().values())
            stop.wait(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


@pytest.mark.ansible
def test_secrets_never_reach_argv_output_or_answers(
    admin_client: TestClient, hostile_vault: str, marker: Path
) -> None:
    secrets = _secrets(admin_client, hostile_vault)
    with _watch_processes() as seen:
        job = wait_for_job(admin_client, _deploy(admin_client, "secrets"))
        refresh = admin_client.post("/api/instances/refresh", json={}).json()["job_id"]
        refreshed = wait_for_job(admin_client, refresh)
    assert job["status"] == "completed", job["output"]
    assert refreshed["status"] == "completed", refreshed["output"][-20:]
    # The sampler saw the job's processes, so their absence below means something.
    assert any("services/secrets/deploy.sh" in cmd for cmd in seen)
    assert any("ansible-playbook" in cmd and "--vault-password-file" in cmd for cmd in seen)
    for name in ("vault", "vultr", "cloudflare"):
        leaked = [cmd for cmd in seen if secrets[name] in cmd]
        assert leaked == [], name

    out = job["output"]
    for line in ("plain: ", "urlencoded: ", "vultr: ", "cloudflare: ", "twice: "):
        assert line + MASK in out, (line, out)
    assert "ready" in out and "after sleep" in out
    assert not marker.exists(), "the vault password was run by a shell"

    answers = [
        admin_client.get(path).text
        for path in (
            f"/api/jobs/{job['id']}",
            f"/api/jobs/{job['id']}/output",
            f"/api/jobs/{refresh}",
            "/api/jobs",
            "/api/services",
            "/api/services/secrets",
            "/api/instances",
            "/api/auth/me",
            "/openapi.json",
        )
    ]
    with admin_client.stream("GET", f"/api/jobs/{job['id']}/stream") as stream:
        answers.append("".join(stream.iter_text()))
    for name, secret in secrets.items():
        if name != "access token":
            assert not any(secret in answer for answer in answers), name


def test_secrets_at_rest_are_encrypted_and_private(
    admin_client: TestClient, hostile_vault: str, settings: Settings, tmp_path: Path
) -> None:
    job = wait_for_job(admin_client, _deploy(admin_client, "secrets"))
    assert job["status"] == "completed"
    secrets = _secrets(admin_client, hostile_vault)
    ctx = context(admin_client)
    with ctx.engine.connect() as conn:
        stored = list(conn.scalars(select(app_meta.c.value)))
        stored += list(conn.scalars(select(job_lines.c.text)))
    for name, secret in secrets.items():
        assert not any(secret in value for value in stored), name

    data_dir = settings.data_dir
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    files += [p for p in tmp_path.glob("test.db*") if p.is_file()]  # the SQLite leg's database
    assert files
    holders = []
    for path in files:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert not mode & stat.S_IWOTH, f"{path} is world-writable"
        data = path.read_bytes()
        if path.name.startswith("test.db"):
            for name, secret in secrets.items():
                assert secret.encode() not in data, f"{name} in plain text in {path.name}"
        if any(secret.encode() in data for secret in secrets.values()):
            holders.append(path.relative_to(data_dir).as_posix())
            assert mode & 0o077 == 0, f"{path} holds a secret but is {oct(mode)}"
    # The two files that must hold a secret, and only those.
    assert sorted(holders) == ["run/vault-password", "secret.key"]
    assert stat.S_IMODE((data_dir / "run").stat().st_mode) == 0o700


def test_a_vault_password_the_job_cannot_run(
    client: TestClient, marker: Path, tmp_path: Path
) -> None:
    """Metacharacters reach the script only as file content: printed, masked, never run."""
    vault = f"'; touch {marker}; echo '\\$(touch {marker})\\n"
    answer = client.post("/api/auth/setup", json={**ADMIN, "vault_password": vault})
    assert answer.status_code == 200
    client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    job = wait_for_job(client, _deploy(client, "hello"))
    assert job["status"] == "completed"
    assert f"vault says: {MASK}" in job["output"]
    assert "hello from lab" in job["output"]  # a regex would have eaten more than the secret
    assert not marker.exists()
    vault_file = context(client).vault_file
    assert vault_file is not None and vault_file.read_text() == vault + "\n"


# -- sessions -------------------------------------------------------------------------


def test_logout_revokes_that_session_everywhere_and_no_other(admin_client: TestClient) -> None:
    token = admin_client.headers["Authorization"].removeprefix("Bearer ")
    other = admin_client.post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN["password"]}
    ).json()["access_token"]
    job_id = wait_for_job(admin_client, _deploy(admin_client, "hello"))["id"]
    answer = admin_client.post("/api/auth/logout", json={})
    assert answer.status_code == 200
    assert "clm_session=" in answer.headers["set-cookie"]
    anonymous = TestClient(admin_client.app)
    for path in ("/api/auth/me", "/api/jobs", f"/api/jobs/{job_id}/stream"):
        assert_refused(anonymous.get(path, headers={"Authorization": f"Bearer {token}"}), 401)
        anonymous.cookies.set("clm_session", token)
        assert_refused(anonymous.get(path), 401)
        anonymous.cookies.clear()
        assert anonymous.get(path, headers={"Authorization": f"Bearer {other}"}).status_code == 200
    # Logging out twice is harmless and still refused.
    again = anonymous.post(
        "/api/auth/logout", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert_refused(again, 401)


def _cli(settings: Settings, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "CLM_DATA_DIR": str(settings.data_dir),
        "CLM_DATABASE_URL": settings.effective_database_url,
        "CLM_LAB": str(settings.lab),
        "LOCAL_MODE": "true",
        "CLM_SANDBOX": "false",
    }
    return subprocess.run(
        [sys.executable, "-m", "cloudlabmanager", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_reset_password_revokes_every_session_of_a_running_server(
    admin_client: TestClient, settings: Settings
) -> None:
    tokens = [admin_client.headers["Authorization"].removeprefix("Bearer ")]
    for _ in range(2):
        tokens.append(
            admin_client.post(
                "/api/auth/login", json={"username": "admin", "password": ADMIN["password"]}
            ).json()["access_token"]
        )
    done = _cli(settings, "reset-password", stdin="brand new password\n")
    assert done.returncode == 0, done.stderr
    assert "brand new password" not in done.stdout + done.stderr
    anonymous = TestClient(admin_client.app)
    for token in tokens:
        assert_refused(
            anonymous.get("/api/jobs", headers={"Authorization": f"Bearer {token}"}), 401
        )
        anonymous.cookies.set("clm_session", token)
        assert_refused(anonymous.post("/api/services/hello/deploy", json={}), 401)
        anonymous.cookies.clear()
    old = anonymous.post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN["password"]}
    )
    assert_refused(old, 401)
    new = anonymous.post(
        "/api/auth/login", json={"username": "admin", "password": "brand new password"}
    )
    assert new.status_code == 200
    assert (
        admin_client.get("/api/jobs", headers={"Authorization": f"Bearer {tokens[0]}"}).status_code
        == 401
    )


# -- setup and login under attack -------------------------------------------------------


def test_racing_setups_store_exactly_the_winners_vault_password(client: TestClient) -> None:
    def attempt(i: int) -> tuple[int, str]:
        body = {**ADMIN, "username": f"admin_{i}", "vault_password": f"vault-of-{i}"}
        answer = TestClient(client.app).post("/api/auth/setup", json=body)
        return answer.status_code, f"vault-of-{i}"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(10)))
    winners = [vault for code, vault in results if code == 200]
    assert len(winners) == 1 and sorted(code for code, _ in results) == [200] + [409] * 9
    ctx = context(client)
    assert ctx.users.list_usernames() == [f"admin_{winners[0].rsplit('-', 1)[1]}"]
    assert ctx.vault_file is not None and ctx.vault_file.read_text() == winners[0] + "\n"


def test_password_spraying_from_one_address_is_throttled(admin_client: TestClient) -> None:
    anonymous = TestClient(admin_client.app)
    codes = [
        anonymous.post(
            "/api/auth/login", json={"username": f"user{i}", "password": "Summer2024!"}
        ).status_code
        for i in range(8)
    ]
    assert codes[:5] == [401] * 5 and codes[5:] == [429] * 3
    # The address is locked: even the right password of a user never tried waits.
    right = anonymous.post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN["password"]}
    )
    assert_refused(right, 429, ADMIN["password"])
    assert int(right.headers["retry-after"]) > 0
    assert "set-cookie" not in right.headers


def test_brute_force_on_one_user_is_throttled_across_case_variants(
    admin_client: TestClient,
) -> None:
    anonymous = TestClient(admin_client.app)
    for i, name in enumerate(["admin", "ADMIN", "Admin", "aDmIn", "admin"]):
        answer = anonymous.post(
            "/api/auth/login", json={"username": name, "password": f"guess{i}xx"}
        )
        assert_refused(answer, 401, f"guess{i}xx")
        assert answer.json() == {"detail": "Incorrect username or password"}
    locked = anonymous.post("/api/auth/login", json={"username": "admin", "password": "guess9xx"})
    assert_refused(locked, 429)


# -- headers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/assets/js/main.js", 200),
        ("GET", "/assets/app.css", 200),
        ("GET", "/assets/../pyproject.toml", 404),
        ("GET", "/api/auth/status", 200),
        ("GET", "/api/jobs", 200),
        ("GET", "/api/nope", 404),
        ("GET", "/docs", 200),
        ("GET", "/openapi.json", 200),
        ("POST", "/api/services/hello/deploy", 415),
    ],
)
def test_security_headers_everywhere(
    admin_client: TestClient, method: str, path: str, status: int
) -> None:
    answer = admin_client.request(method, path, content=b"x" if method == "POST" else None)
    assert answer.status_code == status
    headers = answer.headers
    csp = headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "access-control-allow-origin" not in headers


def test_token_answers_are_never_cached(client: TestClient) -> None:
    setup = client.post("/api/auth/setup", json=ADMIN)
    login = client.post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN["password"]}
    )
    for answer in (setup, login):
        assert answer.status_code == 200
        assert "no-store" in answer.headers.get("cache-control", "")
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie


def test_the_default_database_is_private(make_settings: Callable[..., Settings]) -> None:
    """Password hashes and job output live in it: no other local user may read it."""
    settings = make_settings()
    with TestClient(create_app(settings)) as client:
        answer = client.post("/api/auth/setup", json=ADMIN)
        assert answer.status_code == 200
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        assert wait_for_job(client, _deploy(client, "hello"))["status"] == "completed"
        files = sorted(settings.data_dir.glob("cloudlabmanager.db*"))
        assert [f.name for f in files][:1] == ["cloudlabmanager.db"]
        assert len(files) >= 2  # the WAL is there while the server runs
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
