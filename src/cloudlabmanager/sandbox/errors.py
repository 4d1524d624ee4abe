"""Failures the sandbox answers with, each rendered in its own API's error shape."""

from __future__ import annotations


class VultrError(Exception):
    """Rendered as Vultr does: `{"error": message, "status": status}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class CloudflareError(Exception):
    """Rendered as Cloudflare does: an envelope with `success: false` and `errors`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(kind: str) -> VultrError:
    return VultrError(404, f"{kind} not found.")


def bad_request(message: str) -> VultrError:
    return VultrError(400, message)
