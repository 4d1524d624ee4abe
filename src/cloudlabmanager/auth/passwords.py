"""Password hashing (argon2 via pwdlib). Slow on purpose: call it off the event loop."""

from __future__ import annotations

import functools

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

# New hashes are argon2; bcrypt hashes imported from the original still verify.
_hasher = PasswordHash((Argon2Hasher(), BcryptHasher()))


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that a wrong username costs
    the same time as a wrong password. Made on first use, not at import (start-up)."""
    return _hasher.hash("cloudlabmanager-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _dummy_hash())
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a crash
        return False
