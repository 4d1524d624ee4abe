"""ASGI middleware: request size limit, cross-site request guard, headers, access log.

Written as plain ASGI (not BaseHTTPMiddleware) so that streamed answers (SSE) pass
through untouched and cheaply.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("cloudlabmanager.access")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


async def _reject(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class GuardMiddleware:
    """Refuses NUL in queries (400), oversized bodies (413), non-JSON mutations (415) and
    foreign origins (403)."""

    def __init__(self, app: ASGIApp, *, max_body: int, allowed_origins: Iterable[str]) -> None:
        self.app = app
        self.max_body = max_body
        self.allowed_origins = set(allowed_origins)

    def _origin_allowed(self, scope: Scope, origin: str) -> bool:
        if origin in self.allowed_origins:
            return True
        host = _header(scope, b"host")
        scheme = scope.get("scheme", "http")
        return host is not None and origin == f"{scheme}://{host}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            # PostgreSQL cannot even compare a text with NUL in it: refuse before any filter.
            await _reject(send, 400, "The query string must not contain NUL characters")
            return
        if method in MUTATING and path.startswith("/api/"):
            origin = _header(scope, b"origin")
            if origin is not None and not self._origin_allowed(scope, origin):
                await _reject(send, 403, "Cross-origin request refused")
                return
            length = _header(scope, b"content-length")
            content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            has_body = length not in (None, "0") or _header(scope, b"transfer-encoding")
            if has_body and content_type != "application/json":
                await _reject(send, 415, "Request body must be application/json")
                return
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                await _reject(send, 413, f"Request body over {self.max_body} bytes")
                return
            receive = self._limited(receive)
        await self.app(scope, receive, send)

    def _limited(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.max_body

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Surfaces as "error parsing the body": the handler answers 400.
                    return {"type": "http.disconnect"}
            return message

        return limited_receive


class HeadersAndLogMiddleware:
    """Adds the security headers to every answer and logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                existing = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in existing]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if not scope["path"].startswith("/assets/"):
                log.info(
                    "%s %s %s %.1fms",
                    scope["method"],
                    scope["path"],
                    status,
                    (time.perf_counter() - started) * 1000,
                )
