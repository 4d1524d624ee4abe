"""Secrets at rest: Fernet encryption with a key that never enters the database.

The key comes from `CLM_SECRET_KEY`, else `CLM_SECRET_KEY_FILE`, else
`<data>/secret.key`, created 0600 on first boot.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from cloudlabmanager.config import Settings
from cloudlabmanager.errors import StartupError


def write_private_file(path: Path, data: bytes) -> None:
    """Write a file that only the owner can read, atomically, never executable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _load_or_create_key(settings: Settings) -> bytes:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.secret_key_file or settings.data_dir / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    if settings.secret_key_file is not None:
        raise StartupError(
            f"CLM_SECRET_KEY_FILE names {path}, which does not exist: create it with a "
            "Fernet key or unset the variable to let the server create one."
        )
    key = Fernet.generate_key()
    write_private_file(path, key)
    return key


class SecretBox:
    """Encrypts and decrypts the secrets the server stores."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise StartupError(
                "The secret key is not a valid Fernet key (32 url-safe base64 bytes)."
            ) from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        return cls(_load_or_create_key(settings))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise StartupError(
                "A stored secret cannot be decrypted: the secret key changed since it was "
                "written. Restore the old key (secret.key or CLM_SECRET_KEY)."
            ) from exc
