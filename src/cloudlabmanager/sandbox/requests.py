"""Request helpers shared by both fake APIs: bodies, bearer tokens, Vultr cursors."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from .errors import bad_request


async def read_body(request: Request) -> dict[str, Any] | None:
    """The request body as a mapping whatever its Content-Type says; None if unreadable.

    vultr.cloud 1.13 sends JSON without a Content-Type, so urllib labels it
    `application/x-www-form-urlencoded`; real form bodies are accepted too.
    """
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        try:
            return dict(parse_qsl(raw.decode("utf-8"), strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            return None
    return parsed if isinstance(parsed, dict) else None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_matches(presented: str | None, expected: str) -> bool:
    return presented is not None and secrets.compare_digest(
        presented.encode("utf-8"), expected.encode("utf-8")
    )


def encode_cursor(direction: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{direction}__{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The offset a cursor from `encode_cursor` points at; 400 for anything else."""
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise bad_request("Invalid cursor.") from None
    direction, _, offset = text.partition("__")
    if direction not in ("next", "prev") or not offset.isdigit():
        raise bad_request("Invalid cursor.")
    return int(offset)


def parse_int(value: str | None, default: int, low: int, high: int) -> int | None:
    """An integer query parameter clamped to [low, high] as the real APIs do; None if invalid."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        return None
    return max(low, min(high, number))
