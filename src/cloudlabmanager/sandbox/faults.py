"""Deliberate misbehaviour of the sandbox cloud, for reliability tests.

The fault string (from `CLM_SANDBOX_FAULTS`) is a comma-separated list of
`key=value` settings, e.g. `error_rate=0.2,throttle_rate=0.1,retry_after=1,delay_ms=200`:

| key             | value             | effect                                                    |
|-----------------|-------------------|-----------------------------------------------------------|
| `error_rate`    | 0 to 1            | that fraction of requests answers 500 (real error body)   |
| `throttle_rate` | 0 to 1            | that fraction answers 429 with a `Retry-After` header     |
| `retry_after`   | whole seconds ≥ 0 | the `Retry-After` value of a 429 (default 1)              |
| `delay_ms`      | milliseconds ≥ 0  | every answer is delayed this long                         |
| `boot_s`        | seconds ≥ 0       | how long a new instance stays `pending` (default 1)       |
| `seed`          | integer           | seeds the random draws, for reproducible runs             |

`error_rate + throttle_rate` must not exceed 1. A failed or throttled request
changes nothing (the fault is answered before the request reaches the API), so
a client that retries is always safe. An empty string means no faults. Anything
else (unknown key, missing `=`, a value out of range) raises ValueError.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

DEFAULT_BOOT_SECONDS = 1.0


@dataclass(frozen=True)
class Faults:
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after: int = 1
    delay_ms: int = 0
    boot_s: float = DEFAULT_BOOT_SECONDS
    seed: int | None = None

    @property
    def is_active(self) -> bool:
        return self.error_rate > 0 or self.throttle_rate > 0 or self.delay_ms > 0


_KNOWN = ("error_rate", "throttle_rate", "retry_after", "delay_ms", "boot_s", "seed")


def _number(key: str, text: str, kind: type[int] | type[float]) -> float:
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"fault setting {key!r} has an invalid value {text!r}") from None


def _setting(key: str, text: str) -> float | int:
    if key not in _KNOWN:
        raise ValueError(f"unknown fault setting {key!r} (known: {', '.join(_KNOWN)})")
    if key == "seed":
        return int(_number(key, text, int))
    kind = int if key in ("retry_after", "delay_ms") else float
    value = _number(key, text, kind)
    if value < 0:
        raise ValueError(f"fault setting {key!r} must not be negative, got {text!r}")
    if key in ("error_rate", "throttle_rate") and value > 1:
        raise ValueError(f"fault setting {key!r} must be between 0 and 1, got {text!r}")
    return value


def parse_faults(spec: str | None) -> Faults:
    """Parse a fault string; raise ValueError naming the first thing wrong with it."""
    settings: dict[str, float | int] = {}
    for item in (spec or "").split(","):
        item = item.strip()
        if not item:
            continue
        key, separator, text = (part.strip() for part in item.partition("="))
        if not separator or not key or not text:
            raise ValueError(f"fault setting {item!r} is not key=value")
        if key in settings:
            raise ValueError(f"fault setting {key!r} is given twice")
        settings[key] = _setting(key, text)
    faults = Faults(**settings)  # type: ignore[arg-type]
    if faults.error_rate + faults.throttle_rate > 1.0:
        raise ValueError("error_rate + throttle_rate must not exceed 1")
    return faults


def _error_body(path: str, status: int) -> bytes:
    if "/cloudflare/" in path:
        code, message = (971, "Please wait and consider throttling your request speed")
        if status == 500:
            code, message = (10001, "Internal server error (injected by the sandbox)")
        return json.dumps(
            {
                "success": False,
                "errors": [{"code": code, "message": message}],
                "messages": [],
                "result": None,
            }
        ).encode()
    message = "Rate limit exceeded." if status == 429 else "Internal server error."
    return json.dumps({"error": message, "status": status}).encode()


class FaultMiddleware:
    """ASGI middleware that delays, fails or throttles requests as `Faults` says."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults
        self._random = random.Random(faults.seed)  # noqa: S311 - fault injection, not security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.faults.is_active:
            await self.app(scope, receive, send)
            return
        if self.faults.delay_ms:
            await asyncio.sleep(self.faults.delay_ms / 1000)
        draw = self._random.random()
        if draw < self.faults.error_rate:
            await self._answer(send, scope["path"], 500, [])
        elif draw < self.faults.error_rate + self.faults.throttle_rate:
            retry = [(b"retry-after", str(self.faults.retry_after).encode())]
            await self._answer(send, scope["path"], 429, retry)
        else:
            await self.app(scope, receive, send)

    @staticmethod
    async def _answer(send: Send, path: str, status: int, extra: list[tuple[bytes, bytes]]) -> None:
        body = _error_body(path, status)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
