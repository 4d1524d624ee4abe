"""The /api/auth routes as a client sees them, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
from fastapi.testclient import TestClient

from tests.conftest import ADMIN


def test_status_before_and_after_setup(client: TestClient) -> None:
    assert client.get("/api/auth/status").json() == {"setup_complete": False}
    answer = client.post("/api/auth/setup", json=ADMIN)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["access_token"]
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/api/auth/status").json() == {"setup_complete": True}


def test_setup_twice_is_refused(admin_client: TestClient) -> None:
    again = admin_client.post("/api/auth/setup", json={**ADMIN, "username": "other"})
    assert again.status_code == 409
    assert again.json() == {"detail": "Setup is already complete."}


def test_concurrent_setups_yield_exactly_one_admin(client: TestClient) -> None:
    def attempt(i: int) -> int:
        body = {**ADMIN, "username": f"admin_{i}"}
        return client.post("/api/auth/setup", json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(attempt, range(8)))
    assert sorted(codes) == [200] + [409] * 7
    winners = [i for i, code in enumerate(codes) if code == 200]
    login = client.post(
        "/api/auth/login", json={"username": f"admin_{winners[0]}", "password": ADMIN["password"]}
    )
    assert login.status_code == 200


def test_setup_validates_input(client: TestClient) -> None:
    cases = [
        {**ADMIN, "username": "ab"},
        {**ADMIN, "username": "bad name"},
        {**ADMIN, "password": "short"},
        {**ADMIN, "password": "x" * 1025},
        {**ADMIN, "vault_password": "two\nlines"},
    ]
    for body in cases:
        answer = client.post("/api/auth/setup", json=body)
        assert answer.status_code in (400, 422), body
        assert "detail" in answer.json()
    assert client.get("/api/auth/status").json() == {"setup_complete": False}


def test_login_me_logout(admin_client: TestClient) -> None:
    login = admin_client.post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN["password"]}
    )
    assert login.status_code == 200
    token = login.json()["access_token"]
    fresh = TestClient(admin_client.app)
    headers = {"Authorization": f"Bearer {token}"}
    assert fresh.get("/api/auth/me", headers=headers).json()["username"] == "admin"
    assert fresh.post("/api/auth/logout", headers=headers).status_code == 200
    assert fresh.get("/api/auth/me", headers=headers).status_code == 401


def test_cookie_session_works_without_header(client: TestClient) -> None:
    client.post("/api/auth/setup", json=ADMIN)
    assert client.get("/api/auth/me").json()["username"] == "admin"


def test_wrong_credentials_share_one_answer(admin_client: TestClient) -> None:
    fresh = TestClient(admin_client.app)
    wrong_password = fresh.post(
        "/api/auth/login", json={"username": "admin", "password": "nope1234"}
    )
    wrong_user = fresh.post("/api/auth/login", json={"username": "nobody", "password": "nope1234"})
    assert wrong_password.status_code == wrong_user.status_code == 401
    assert wrong_password.json() == wrong_user.json()


def test_login_is_throttled(admin_client: TestClient) -> None:
    fresh = TestClient(admin_client.app)
    codes = [
        fresh.post("/api/auth/login", json={"username": "admin", "password": f"bad{i}xxxx"})
        for i in range(7)
    ]
    assert [c.status_code for c in codes[:5]] == [401] * 5
    assert codes[5].status_code == 429
    assert int(codes[5].headers["retry-after"]) > 0
    # Even the right password waits until the window passes.
    right = fresh.post("/api/auth/login", json={"username": "admin", "password": ADMIN["password"]})
    assert right.status_code == 429


def _forge(payload: dict[str, object], header: dict[str, str]) -> str:
    def part(data: dict[str, object] | dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def test_forged_expired_and_alg_none_tokens_are_refused(admin_client: TestClient) -> None:
    fresh = TestClient(admin_client.app)
    now = int(time.time())
    claims = {"sub": "admin", "ver": 0, "iat": now, "exp": now + 3600, "jti": "x" * 32}
    tokens = [
        _forge(claims, {"alg": "none", "typ": "JWT"}),
        jwt.encode(claims, "not-the-key-not-the-key-not-the-key!", algorithm="HS256"),
        jwt.encode({**claims, "exp": now - 10}, "whatever-key-whatever-key-whatever", "HS256"),
        "garbage",
        "a.b.c",
        "x" * 5000,
    ]
    for token in tokens:
        answer = fresh.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, token[:40]
    assert fresh.get("/api/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert fresh.get("/api/auth/me?token=abc").status_code == 401


def test_malformed_bodies_get_4xx(client: TestClient) -> None:
    bodies: list[tuple[bytes, str]] = [
        (b"{", "application/json"),
        (b"[]", "application/json"),
        (b'{"username": "\\ud800abc", "password": "12345678"}', "application/json"),
        (b'{"username": "ab\\u0000cd", "password": "12345678"}', "application/json"),
        (b'{"username": 1e999999, "password": "12345678"}', "application/json"),
        (b"[" * 50_000 + b"]" * 50_000, "application/json"),
        (b"username=a&password=b", "application/x-www-form-urlencoded"),
        (b'{"username": "admin", "password": "12345678", "extra": 1}', "application/json"),
    ]
    for body, content_type in bodies:
        answer = client.post(
            "/api/auth/setup", content=body, headers={"Content-Type": content_type}
        )
        assert 400 <= answer.status_code < 500, (body[:40], answer.status_code)
        assert "ud800" not in answer.text
    assert client.get("/api/auth/status").json() == {"setup_complete": False}


def test_oversized_body_gets_413(client: TestClient) -> None:
    body = json.dumps({"username": "admin", "password": "x" * 200_000})
    answer = client.post(
        "/api/auth/setup", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413


def test_cross_origin_mutation_is_refused(admin_client: TestClient) -> None:
    answer = admin_client.post(
        "/api/auth/logout", json={}, headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 403
    assert admin_client.get("/api/auth/me").status_code == 200


def test_security_headers_on_every_answer(client: TestClient) -> None:
    for path in ("/api/auth/status", "/api/nope"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_vault_password_never_stored_or_returned_in_plain_text(
    admin_client: TestClient, settings: object
) -> None:
    from cloudlabmanager.config import Settings

    assert isinstance(settings, Settings)
    vault = ADMIN["vault_password"]
    for path in ("/api/auth/me", "/api/auth/status", "/openapi.json"):
        assert vault not in admin_client.get(path).text
    if settings.effective_database_url.startswith("sqlite"):
        db_file = settings.data_dir.parent / "test.db"
        for candidate in (db_file, db_file.with_name("test.db-wal")):
            if candidate.exists():
                assert vault.encode() not in candidate.read_bytes()
