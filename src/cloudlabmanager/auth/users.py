"""Users: first-boot setup, login, token checks, logout and password changes.

Every function here is synchronous and may be slow (argon2): routes run them in
the thread pool, never on the event loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, Insert, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from cloudlabmanager.auth.passwords import hash_password, verify_password
from cloudlabmanager.auth.throttle import LoginThrottle
from cloudlabmanager.auth.tokens import TokenClaims, decode_token, issue_token, new_signing_key
from cloudlabmanager.errors import BadRequest, Conflict, NotFound, Unauthorized
from cloudlabmanager.storage import meta as keys
from cloudlabmanager.storage.clock import as_utc, utcnow
from cloudlabmanager.storage.meta import MetaStore
from cloudlabmanager.storage.tables import app_meta, revoked_tokens, users

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_]{3,30}")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
BAD_LOGIN = "Incorrect username or password"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    is_admin: bool
    token_version: int


def validate_username(username: str) -> str:
    if not USERNAME_PATTERN.fullmatch(username):
        raise BadRequest("Username must be 3-30 characters: letters, digits or underscore.")
    return username


def validate_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise BadRequest(f"Password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters.")
    return password


def validate_vault_password(password: str) -> str:
    if not 1 <= len(password) <= MAX_PASSWORD or any(c in password for c in "\r\n\x00"):
        raise BadRequest("Vault password must be 1-1024 characters on one line.")
    return password


def _user_insert(username: str, password_hash: str, *, is_admin: bool, now: datetime) -> Insert:
    return insert(users).values(
        username=username,
        password_hash=password_hash,
        token_version=0,
        is_admin=is_admin,
        created_at=now,
    )


class UserService:
    def __init__(
        self, engine: Engine, meta: MetaStore, throttle: LoginThrottle, token_ttl: timedelta
    ) -> None:
        self._engine = engine
        self._meta = meta
        self._throttle = throttle
        self._ttl = token_ttl

    # -- signing key -------------------------------------------------------------
    def ensure_signing_key(self) -> None:
        if self._meta.get(keys.SIGNING_KEY) is None:
            self._meta.set_secret(keys.SIGNING_KEY, new_signing_key())

    def _signing_key(self) -> str:
        key = self._meta.get_secret(keys.SIGNING_KEY)
        if key is None:
            raise RuntimeError("signing key missing: bootstrap did not run")
        return key

    # -- queries -----------------------------------------------------------------
    def setup_complete(self) -> bool:
        with self._engine.connect() as conn:
            return bool(conn.scalar(select(func.count()).select_from(users)))

    def _get(self, username: str) -> tuple[User, str] | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        if row is None:
            return None
        user = User(row.id, row.username, row.is_admin, row.token_version)
        return user, row.password_hash

    # -- first boot ----------------------------------------------------------------
    def setup(
        self,
        username: str,
        password: str,
        vault_password: str | None,
        store_vault_password: Callable[[str], None],
    ) -> str:
        """Create the first admin; exactly one of many concurrent callers succeeds."""
        validate_username(username)
        validate_password(password)
        if vault_password is not None:
            validate_vault_password(vault_password)
        if self.setup_complete():
            raise Conflict("Setup is already complete.")
        password_hash = hash_password(password)
        now = utcnow()
        try:
            with self._engine.begin() as conn:
                # The claim row's primary key makes this insert the single winner.
                conn.execute(
                    insert(app_meta).values(key=keys.SETUP_CLAIM, value=username, updated_at=now)
                )
                conn.execute(_user_insert(username, password_hash, is_admin=True, now=now))
        except IntegrityError as exc:
            raise Conflict("Setup is already complete.") from exc
        if vault_password is not None:
            store_vault_password(vault_password)
        return issue_token(self._signing_key(), username, 0, self._ttl)

    # -- sessions --------------------------------------------------------------------
    def login(self, username: str, password: str, client: str) -> str:
        throttle_keys = (f"user:{username.lower()[:64]}", f"addr:{client}")
        self._throttle.check(*throttle_keys)
        found = self._get(username) if len(username) <= 64 else None
        ok = verify_password(password[:MAX_PASSWORD], found[1] if found else None)
        if not ok or found is None:
            self._throttle.record_failure(*throttle_keys)
            raise Unauthorized(BAD_LOGIN)
        self._throttle.reset(throttle_keys[0])
        user = found[0]
        return issue_token(self._signing_key(), user.username, user.token_version, self._ttl)

    def authenticate(self, token: str) -> tuple[User, TokenClaims]:
        claims = decode_token(self._signing_key(), token)
        if claims is None:
            raise Unauthorized("Invalid or expired token")
        found = self._get(claims.username)
        if found is None or found[0].token_version != claims.token_version:
            raise Unauthorized("Invalid or expired token")
        with self._engine.connect() as conn:
            revoked = conn.scalar(
                select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == claims.jti)
            )
        if revoked is not None:
            raise Unauthorized("Invalid or expired token")
        return found[0], claims

    def logout(self, claims: TokenClaims) -> None:
        now = utcnow()
        with self._engine.begin() as conn:
            conn.execute(delete(revoked_tokens).where(revoked_tokens.c.expires_at < now))
            exists = conn.scalar(
                select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == claims.jti)
            )
            if exists is None:
                conn.execute(
                    insert(revoked_tokens).values(jti=claims.jti, expires_at=claims.expires_at)
                )

    # -- administration (CLI) ---------------------------------------------------------
    def create_user(self, username: str, password: str, *, is_admin: bool = True) -> User:
        validate_username(username)
        validate_password(password)
        password_hash = hash_password(password)
        now = utcnow()
        try:
            with self._engine.begin() as conn:
                conn.execute(_user_insert(username, password_hash, is_admin=is_admin, now=now))
        except IntegrityError as exc:
            raise Conflict(f"User {username!r} already exists.") from exc
        self._meta.claim(keys.SETUP_CLAIM, username)
        found = self._get(username)
        assert found is not None
        return found[0]

    def reset_password(self, username: str, password: str) -> None:
        """Set a new password; every token issued before stops working."""
        validate_password(password)
        password_hash = hash_password(password)
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(users)
                .where(users.c.username == username)
                .values(password_hash=password_hash, token_version=users.c.token_version + 1)
            ).rowcount
        if changed != 1:
            raise NotFound(f"No user named {username!r}.")

    def list_usernames(self) -> list[str]:
        with self._engine.connect() as conn:
            return list(conn.scalars(select(users.c.username).order_by(users.c.id)))

    def created_at(self, username: str) -> str | None:
        with self._engine.connect() as conn:
            value = conn.scalar(select(users.c.created_at).where(users.c.username == username))
        stamp = as_utc(value)
        return stamp.isoformat() if stamp else None
