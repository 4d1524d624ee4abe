"""Hostile requests: each gets its exact refusal, and nothing is written or started.

Every case runs against a fresh app (on SQLite and PostgreSQL) whose lab has real,
runnable services, so a refusal that let the request through would show up as a
job, a file, a user or the marker file a payload would create.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN
from tests.security.conftest import SharedServer, assert_refused, context

pytestmark = pytest.mark.usefixtures("unchanged")


@pytest.fixture
def admin_client(shared_server: SharedServer) -> TestClient:
    shared_server.client.cookies.clear()
    return shared_server.client


@pytest.fixture
def watched_root(shared_server: SharedServer) -> Path:
    return shared_server.root


@pytest.fixture
def marker(shared_server: SharedServer) -> Path:
    return shared_server.marker


@pytest.fixture
def hostile_vault(shared_server: SharedServer) -> str:
    return shared_server.vault


ROUTE_MISMATCH = "Not Found"
NO_SERVICE = "Service not found"

# (raw URL path segment, what the server must answer)
SERVICE_NAMES: list[tuple[str, str]] = [
    ("..%2Fx", ROUTE_MISMATCH),
    ("..%2F..%2F..%2Fetc%2Fpasswd", ROUTE_MISMATCH),
    ("hello%2F..%2F..%2Fx", ROUTE_MISMATCH),
    # The test client decodes the path a second time (uvicorn does not): these two
    # meet the router as ../x and .. here; test_server_paths covers them on uvicorn.
    ("%252e%252e%252fx", ROUTE_MISMATCH),
    ("%252e%252e", NO_SERVICE),
    ("%2e%2e", NO_SERVICE),
    ("%2e", NO_SERVICE),
    ("..%5Cx", NO_SERVICE),
    ("hello%00", NO_SERVICE),
    ("%00", NO_SERVICE),
    ("hello%0A", NO_SERVICE),
    ("hello%0D%0AX-Injected:%201", NO_SERVICE),
    ("hello%09", NO_SERVICE),
    ("hello%20", NO_SERVICE),
    ("%EF%BD%88ello", NO_SERVICE),  # fullwidth h (U+FF48)
    ("h%D0%B5llo", NO_SERVICE),  # Cyrillic ie (U+0435)
    ("-rf", NO_SERVICE),
    ("--help", NO_SERVICE),
    ("docker-base", NO_SERVICE),
    ("a" * 65, NO_SERVICE),
    ("hello" + "x" * 300, NO_SERVICE),
    ("HELLO", NO_SERVICE),
    ("~root", NO_SERVICE),
    ("hello;id", NO_SERVICE),
    ("%24(touch%20pwned)", NO_SERVICE),
    ("%60id%60", NO_SERVICE),
    ("*", NO_SERVICE),
]
SERVICE_ROUTES = [
    ("GET", "/api/services/{}"),
    ("POST", "/api/services/{}/deploy"),
    ("POST", "/api/services/{}/stop"),
]


def _shown(raw: str) -> str:
    """The decoded name, as an echo would show it (only checked when long enough)."""
    from urllib.parse import unquote

    return unquote(raw)


@pytest.mark.parametrize(("segment", "detail"), SERVICE_NAMES, ids=[s for s, _ in SERVICE_NAMES])
@pytest.mark.parametrize(("method", "template"), SERVICE_ROUTES, ids=["detail", "deploy", "stop"])
def test_hostile_service_names(
    admin_client: TestClient, method: str, template: str, segment: str, detail: str
) -> None:
    answer = admin_client.request(
        method, template.format(segment), json={} if method == "POST" else None
    )
    assert_refused(answer, 404, _shown(segment), segment)
    assert answer.json() == {"detail": detail}
    assert "x-injected" not in answer.headers


def test_a_service_whose_script_points_outside_the_lab_is_refused(
    admin_client: TestClient, watched_root: Path, marker: Path
) -> None:
    outside = watched_root / "outside.sh"
    outside.write_text(f"touch {marker}\n")
    service = context(admin_client).lab_dir / "services" / "escape"  # type: ignore[operator]
    service.mkdir()
    (service / "deploy.sh").symlink_to(outside)
    answer = admin_client.post("/api/services/escape/deploy", json={})
    assert_refused(answer, 400)
    assert "outside the lab" in answer.json()["detail"]
    service.joinpath("deploy.sh").unlink()
    service.rmdir()
    outside.unlink()


JOB_IDS: list[tuple[str, int]] = [
    ("-1", 404),
    ("0", 404),
    ("-0", 404),
    ("9223372036854775808", 404),
    ("99999999999999999999999999999", 404),
    ("1.5", 422),
    ("1e3", 422),
    ("abc", 422),
    ("0x10", 422),
    ("1%20OR%201=1", 422),
    ("%00", 422),
    ("NaN", 422),
    ("1;DROP%20TABLE%20jobs", 422),
]
JOB_ROUTES = [
    ("GET", "/api/jobs/{}"),
    ("GET", "/api/jobs/{}/output"),
    ("GET", "/api/jobs/{}/stream"),
    ("POST", "/api/jobs/{}/cancel"),
]


@pytest.mark.parametrize(("raw_id", "status"), JOB_IDS, ids=[i for i, _ in JOB_IDS])
@pytest.mark.parametrize(
    ("method", "template"), JOB_ROUTES, ids=["detail", "output", "stream", "cancel"]
)
def test_hostile_job_ids(
    admin_client: TestClient, method: str, template: str, raw_id: str, status: int
) -> None:
    answer = admin_client.request(
        method, template.format(raw_id), json={} if method == "POST" else None
    )
    # A number may be named back ("No job -1"); text never is.
    assert_refused(answer, status, *(() if raw_id.lstrip("-").isdigit() else (_shown(raw_id),)))


QUERIES: list[tuple[str, int]] = [
    ("/api/jobs?limit=0", 422),
    ("/api/jobs?limit=-1", 422),
    ("/api/jobs?limit=100000", 422),
    ("/api/jobs?limit=abc", 422),
    ("/api/jobs?before=0", 422),
    ("/api/jobs?before=99999999999999999999999", 422),
    ("/api/jobs?service=" + "x" * 65, 422),
    ("/api/jobs?status=" + "x" * 17, 422),
    ("/api/jobs/1?tail=-1", 422),
    ("/api/jobs/1?tail=99999999", 422),
    ("/api/jobs/1/output?after=-5", 422),
    ("/api/jobs/1/output?limit=0", 422),
    ("/api/jobs/1/output?limit=1e9", 422),
    ("/api/jobs/1/stream?after=-1", 422),
]


@pytest.mark.parametrize(("url", "status"), QUERIES, ids=[u for u, _ in QUERIES])
def test_hostile_query_parameters(admin_client: TestClient, url: str, status: int) -> None:
    assert_refused(admin_client.get(url), status)


@pytest.mark.parametrize(
    "url",
    [
        "/api/jobs?service=%00",
        "/api/jobs?status=%00",
        "/api/jobs?service=hello%00x",
        "/api/jobs/1/output?after=1&x=%00",
        "/api/services?q=%00",
    ],
)
def test_nul_in_a_query_is_refused(admin_client: TestClient, url: str) -> None:
    answer = admin_client.get(url)
    assert_refused(answer, 400)
    assert answer.json() == {"detail": "The query string must not contain NUL characters"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/jobs?service=%FF%FE",
        "/api/jobs?service=..%2F..%2Fetc",
        "/api/jobs?service=%27%20OR%201%3D1--",
    ],
)
def test_hostile_filters_match_nothing_or_are_refused(admin_client: TestClient, url: str) -> None:
    answer = admin_client.get(url)
    if answer.status_code == 200:
        assert answer.json() == {"jobs": [], "next_before": None}
    else:
        assert_refused(answer, 422, "' OR 1=1--")


def _body(answer_body: Any) -> bytes:
    return json.dumps(answer_body).encode()


STOP = {"label": "web1", "region": "mel"}
# (raw body, status, text that must not be echoed)
BODIES: list[tuple[bytes, int, str]] = [
    (b"{", 422, ""),
    (b"[]", 422, ""),
    (b"null", 422, ""),
    (b'"just text"', 422, "just text"),
    (b"", 422, ""),
    (_body({"label": "web1"}), 422, ""),
    (_body({**STOP, "extra": "<script>x</script>"}), 422, "<script>x</script>"),
    (_body({**STOP, "label": "../x"}), 422, "../x"),
    (_body({**STOP, "label": "-oProxyCommand=touch pwned"}), 422, "ProxyCommand"),
    (_body({**STOP, "label": "web1\n"}), 422, ""),
    (_body({**STOP, "label": "web1\u0000"}), 422, ""),
    (_body({**STOP, "label": "w\u0435b1"}), 422, "w\u0435b1"),
    (_body({**STOP, "label": "x" * 256}), 422, "x" * 256),
    (_body({**STOP, "label": "$(touch pwned)"}), 422, "touch pwned"),
    (_body({**STOP, "region": "mel;touch pwned"}), 422, "touch pwned"),
    (_body({**STOP, "region": "mel", "label": 5}), 422, ""),
    (_body({**STOP, "label": ["web1"]}), 422, ""),
    (_body({**STOP, "label": {"$ne": 1}}), 422, "$ne"),
    (b'{"label": "web1", "region": "mel", "label": "../../x"}', 422, "../../x"),
    (b'{"label": "\\ud800", "region": "mel"}', 422, "ud800"),
    (b'{"label": "web1", "region": 1e999999}', 422, ""),
    (b'{"label": "\xff\xfe", "region": "mel"}', 400, ""),
    (b"[" * 100_000, 413, ""),
    (b'{"label": "' + b"a" * 70_000 + b'", "region": "mel"}', 413, ""),
]


@pytest.mark.parametrize(
    ("body", "status", "echo"), BODIES, ids=[f"body{i}" for i in range(len(BODIES))]
)
def test_hostile_bodies(admin_client: TestClient, body: bytes, status: int, echo: str) -> None:
    answer = admin_client.post(
        "/api/instances/stop", content=body, headers={"Content-Type": "application/json"}
    )
    assert_refused(answer, status, echo)


def test_an_oversized_chunked_body_without_length_is_refused(admin_client: TestClient) -> None:
    def chunks() -> Any:
        yield b'{"label": "'
        for _ in range(100):
            yield b"a" * 1024
        yield b'", "region": "mel"}'

    answer = admin_client.post(
        "/api/instances/stop", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_refused(answer, 400)


@pytest.mark.parametrize("length", ["-1", "abc", "1e9", "99999999999999999999"])
def test_a_lying_content_length_is_refused(admin_client: TestClient, length: str) -> None:
    answer = admin_client.post(
        "/api/services/hello/deploy",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": length},
    )
    assert_refused(answer, 413)


CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "text/plain",
    "multipart/form-data; boundary=xyz",
    "text/json",
    "application/jsonp",
    "application/json-patch+json",
    "application/xml",
    None,
]


@pytest.mark.parametrize("content_type", CONTENT_TYPES, ids=str)
@pytest.mark.parametrize(
    "path", ["/api/services/hello/deploy", "/api/instances/refresh", "/api/auth/login"]
)
def test_wrong_content_types_are_refused(
    admin_client: TestClient, path: str, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"username": "admin", "password": "correct horse battery"}'
    answer = admin_client.post(path, content=body, headers=headers)
    if content_type is None:
        # httpx adds no type for raw content: the guard sees a body of no declared type.
        assert "content-type" not in {k.lower() for k in answer.request.headers}
    assert_refused(answer, 415)
    assert "set-cookie" not in answer.headers


# -- tokens -----------------------------------------------------------------------


def _part(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "admin",
        "ver": 0,
        "iat": now,
        "exp": now + 3600,
        "jti": "a" * 32,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _forged_tokens(key: str, valid: str) -> dict[str, str]:
    now = int(time.time())
    header, payload, signature = valid.split(".")
    return {
        "alg-none": f"{_part({'alg': 'none', 'typ': 'JWT'})}.{_part(_claims())}.",
        "alg-None-caps": f"{_part({'alg': 'None'})}.{_part(_claims())}.",
        "hs512-right-key": jwt.encode(_claims(), key, algorithm="HS512"),
        "hs384-right-key": jwt.encode(_claims(), key, algorithm="HS384"),
        "wrong-key": jwt.encode(_claims(), "k" * 64, algorithm="HS256"),
        "expired": jwt.encode(_claims(exp=now - 5, iat=now - 100), key, algorithm="HS256"),
        "no-jti": jwt.encode(_claims(jti=None), key, algorithm="HS256"),
        "no-ver": jwt.encode(_claims(ver=None), key, algorithm="HS256"),
        "no-exp": jwt.encode(_claims(exp=None), key, algorithm="HS256"),
        "old-version": jwt.encode(_claims(ver=-1), key, algorithm="HS256"),
        "ver-as-text": jwt.encode(_claims(ver="0"), key, algorithm="HS256"),
        "ver-as-bool": jwt.encode(_claims(ver=False), key, algorithm="HS256"),
        "unknown-user": jwt.encode(_claims(sub="nobody"), key, algorithm="HS256"),
        "sub-as-number": jwt.encode(_claims(sub=1), key, algorithm="HS256"),
        "not-yet-valid": jwt.encode(_claims(nbf=now + 3600), key, algorithm="HS256"),
        "issued-in-future": jwt.encode(_claims(iat=now + 3600), key, algorithm="HS256"),
        "kid-traversal": jwt.encode(
            _claims(), "k" * 64, algorithm="HS256", headers={"kid": "../../../dev/null"}
        ),
        "payload-swapped": f"{header}.{_part(_claims(sub='root'))}.{signature}",
        "signature-stripped": f"{header}.{payload}.",
        "extra-segment": f"{valid}.x",
        "valid-plus-junk": valid + "x",
        "oversized": "x" * 5000,
    }


TOKEN_CASES = [
    "alg-none",
    "alg-None-caps",
    "hs512-right-key",
    "hs384-right-key",
    "wrong-key",
    "expired",
    "no-jti",
    "no-ver",
    "no-exp",
    "old-version",
    "ver-as-text",
    "ver-as-bool",
    "unknown-user",
    "sub-as-number",
    "not-yet-valid",
    "issued-in-future",
    "kid-traversal",
    "payload-swapped",
    "signature-stripped",
    "extra-segment",
    "valid-plus-junk",
    "oversized",
]


def _valid_token(client: TestClient) -> str:
    return str(client.headers["Authorization"]).removeprefix("Bearer ")


@pytest.mark.parametrize("case", TOKEN_CASES)
@pytest.mark.parametrize("where", ["header", "cookie"])
def test_forged_tokens_are_refused(admin_client: TestClient, case: str, where: str) -> None:
    key = context(admin_client).users._signing_key()
    token = _forged_tokens(key, _valid_token(admin_client))[case]
    anonymous = TestClient(admin_client.app)
    if where == "header":
        answer = anonymous.post(
            "/api/services/hello/deploy", json={}, headers={"Authorization": f"Bearer {token}"}
        )
    else:
        anonymous.cookies.set("clm_session", token)
        answer = anonymous.post("/api/services/hello/deploy", json={})
    assert_refused(answer, 401, token)
    assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "url",
    [
        "/api/jobs?access_token={}",
        "/api/jobs?token={}",
        "/api/jobs?authorization=Bearer%20{}",
        "/api/jobs/1/stream?access_token={}",
        "/api/auth/me?jwt={}",
    ],
)
def test_tokens_in_query_strings_are_ignored(admin_client: TestClient, url: str) -> None:
    token = _valid_token(admin_client)
    anonymous = TestClient(admin_client.app)
    answer = anonymous.get(url.format(token))
    assert_refused(answer, 401, token)


@pytest.mark.parametrize(
    "header",
    [
        "Basic YWRtaW46Y29ycmVjdCBob3JzZSBiYXR0ZXJ5",  # admin:correct horse battery
        "Bearer",
        "Bearer ",
        "Token {}",
        "JWT {}",
        "{}",
        "Bearer {} {}",
        "Bearer\t{}x",
    ],
)
def test_malformed_authorization_headers_are_refused(admin_client: TestClient, header: str) -> None:
    token = _valid_token(admin_client)
    anonymous = TestClient(admin_client.app)
    value = header.format(token, token)
    answer = anonymous.get("/api/auth/me", headers={"Authorization": value})
    assert_refused(answer, 401, token)
    # A bad header is not rescued by a good cookie: the header is what the client meant.
    anonymous.cookies.set("clm_session", token)
    assert_refused(anonymous.get("/api/auth/me", headers={"Authorization": value}), 401)


# -- setup and login -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        ADMIN,
        {**ADMIN, "username": "second"},
        {**ADMIN, "username": "ADMIN"},
        {**ADMIN, "password": "another password", "vault_password": "replaced"},
    ],
)
def test_setup_replays_are_refused_and_change_nothing(
    admin_client: TestClient, body: dict[str, str], hostile_vault: str
) -> None:
    anonymous = TestClient(admin_client.app)
    answer = anonymous.post("/api/auth/setup", json=body)
    assert_refused(answer, 409)
    assert answer.json() == {"detail": "Setup is already complete."}
    assert "set-cookie" not in answer.headers
    ctx = context(admin_client)
    assert ctx.vault_file is not None
    assert ctx.vault_file.read_text() == hostile_vault + "\n"
    login = anonymous.post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN["password"]}
    )
    assert login.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"username": "admin", "password": "x" * 1025},
        {"username": "a" * 257, "password": "whatever1"},
        {"username": "admin\u0000", "password": "correct horse battery"},
        {"username": "admin", "password": "correct horse battery\u0000"},
        {"username": ["admin"], "password": "correct horse battery"},
        {"username": "admin", "password": {"$gt": ""}},
        {"username": "admin"},
        {"username": "admin", "password": "correct horse battery", "is_admin": True},
    ],
)
def test_malformed_logins_are_refused(admin_client: TestClient, body: dict[str, Any]) -> None:
    anonymous = TestClient(admin_client.app)
    answer = anonymous.post("/api/auth/login", json=body)
    assert_refused(answer, 422, "a" * 257, "$gt")
    assert "set-cookie" not in answer.headers


# -- cross-site requests with the session cookie -------------------------------------

MUTATIONS: list[tuple[str, dict[str, Any]]] = [
    ("/api/services/hello/deploy", {}),
    ("/api/services/hello/stop", {}),
    ("/api/services/actions/stop-all", {}),
    ("/api/instances/refresh", {}),
    ("/api/instances/stop", STOP),
    ("/api/jobs/1/cancel", {}),
    ("/api/auth/logout", {}),
    ("/api/auth/login", {"username": "admin", "password": ADMIN["password"]}),
    ("/api/auth/setup", ADMIN),
]
FOREIGN_ORIGINS = [
    "https://evil.example",
    "null",
    "http://testserver.evil.example",
    "http://testserver:8080",
    "https://testserver",
]


def _cookie_only(client: TestClient) -> TestClient:
    browser = TestClient(client.app)
    browser.cookies.set("clm_session", _valid_token(client))
    return browser


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
@pytest.mark.parametrize(("path", "body"), MUTATIONS, ids=[p for p, _ in MUTATIONS])
def test_cross_origin_mutations_with_the_cookie_are_refused(
    admin_client: TestClient, path: str, body: dict[str, Any], origin: str
) -> None:
    browser = _cookie_only(admin_client)
    answer = browser.post(path, json=body, headers={"Origin": origin})
    assert_refused(answer, 403)
    assert answer.json() == {"detail": "Cross-origin request refused"}
    assert "set-cookie" not in answer.headers
    assert browser.get("/api/auth/me").status_code == 200  # the session survived


@pytest.mark.parametrize(("path", "body"), MUTATIONS, ids=[p for p, _ in MUTATIONS])
def test_form_posts_with_the_cookie_are_refused(
    admin_client: TestClient, path: str, body: dict[str, Any]
) -> None:
    """What an HTML form or a no-CORS fetch can send: a simple content type, no Origin."""
    browser = _cookie_only(admin_client)
    answer = browser.post(path, content=json.dumps(body), headers={"Content-Type": "text/plain"})
    assert_refused(answer, 415)
    assert browser.get("/api/auth/me").status_code == 200
