"""Login throttling: failures counted per username and per client address."""

from __future__ import annotations

import threading
import time
from collections import deque

from cloudlabmanager.errors import TooManyRequests


class LoginThrottle:
    """A sliding window of failures per key; too many locks the key until they age out."""

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.setdefault(key, deque())
        while stamps and now - stamps[0] > self._window:
            stamps.popleft()
        return stamps

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                stamps = self._recent(key, now)
                if len(stamps) >= self._max:
                    retry = int(self._window - (now - stamps[0])) + 1
                    raise TooManyRequests("Too many failed logins; try again later.", retry)

    def record_failure(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 10_000:  # bound memory under a spraying attack
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]

    def reset(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
