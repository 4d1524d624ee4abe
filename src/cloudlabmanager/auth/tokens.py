"""Signed access tokens: JWT, HS256 only, with required claims."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from cloudlabmanager.storage.clock import utcnow

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "ver"]


@dataclass(frozen=True)
class TokenClaims:
    username: str
    token_version: int
    jti: str
    expires_at: datetime


def new_signing_key() -> str:
    return secrets.token_urlsafe(48)


def issue_token(key: str, username: str, token_version: int, ttl: timedelta) -> str:
    now = utcnow()
    payload = {
        "sub": username,
        "ver": token_version,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": secrets.token_hex(16),
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def decode_token(key: str, token: str) -> TokenClaims | None:
    """The token's claims, or None for anything forged, expired or malformed."""
    try:
        payload = jwt.decode(
            token, key, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS}
        )
    except jwt.PyJWTError:
        return None
    sub, ver, jti, exp = payload["sub"], payload["ver"], payload["jti"], payload["exp"]
    # bool is an int in Python: `"ver": false` must not pass for version 0.
    if not (isinstance(sub, str) and type(ver) is int and isinstance(jti, str)):
        return None
    return TokenClaims(
        username=sub,
        token_version=ver,
        jti=jti,
        expires_at=datetime.fromtimestamp(int(exp), tz=utcnow().tzinfo),
    )
