"""The output pipeline: bytes from a child become masked text lines.

Order of work: split on newlines (bounded memory, very long lines cut with a
marker), decode UTF-8 with replacement, strip NUL, then mask known secrets.
ANSI escapes are kept; rendering them safely is the UI's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "********"

_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def _lower_percent(text: str) -> str:
    """`a%2Fb` -> `a%2fb`: clients may print percent-escapes in either case."""
    return _PERCENT_ESCAPE.sub(lambda match: match.group().lower(), text)


def _variants(secret: str) -> set[str]:
    forms = {secret}
    # A multi-line secret (a key file) can only ever appear line by line.
    forms.update(part.strip() for part in secret.splitlines() if len(part.strip()) >= 4)
    for form in list(forms):
        for encoded in (quote(form, safe=""), quote(form), quote_plus(form)):
            forms.add(encoded)
            forms.add(_lower_percent(encoded))
    forms.discard("")
    return {form for form in forms if "\n" not in form and "\r" not in form}


class SecretMasker:
    """Replaces every occurrence of known secrets (literal text) by `MASK`.

    Matching is plain substring search, so regex and shell metacharacters mean
    nothing. All occurrences of all secrets are found first and overlapping or
    adjacent ones are merged, so overlapping secrets never leave a fragment.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        found: set[str] = set()
        for secret in secrets:
            if secret:
                found |= _variants(secret)
        self._needles: tuple[str, ...] = tuple(sorted(found, key=lambda s: (-len(s), s)))

    @property
    def is_empty(self) -> bool:
        return not self._needles

    def mask(self, line: str) -> str:
        for needle in self._needles:
            if needle in line:
                return self._mask_found(line)
        return line

    def mask_lines(self, lines: list[str]) -> list[str]:
        """Masks a batch; one scan of the joined batch when nothing matches."""
        if not self._needles or not lines:
            return lines
        joined = "\n".join(lines)
        if not any(needle in joined for needle in self._needles):
            return lines
        return [self.mask(line) for line in lines]

    def mask_truncated(self, text: str) -> str:
        """Masks `text` that was cut off: a secret's beginning at its end goes too."""
        text = self.mask(text)
        for needle in self._needles:
            for size in range(min(len(needle) - 1, len(text)), 0, -1):
                if text.endswith(needle[:size]):
                    text = text[:-size] + MASK
                    break
        return text

    def _mask_found(self, line: str) -> str:
        spans: list[tuple[int, int]] = []
        for needle in self._needles:
            start = line.find(needle)
            while start >= 0:
                spans.append((start, start + len(needle)))
                start = line.find(needle, start + 1)
        spans.sort()
        parts: list[str] = []
        position = 0
        cur_start, cur_end = spans[0]
        for start, end in spans[1:]:
            if start <= cur_end:
                cur_end = max(cur_end, end)
                continue
            parts += (line[position:cur_start], MASK)
            position = cur_end
            cur_start, cur_end = start, end
        parts += (line[position:cur_start], MASK, line[cur_end:])
        return "".join(parts)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


class LineSplitter:
    """Turns a byte stream into complete text lines with bounded memory.

    At most `max_line_bytes` of the current line are kept; the rest of an
    over-long line is counted and dropped as it arrives, and the line is
    emitted at its end with a marker saying how much was cut.
    """

    def __init__(self, max_line_bytes: int, *, masker: SecretMasker | None = None) -> None:
        if max_line_bytes < 1:
            raise ValueError("max_line_bytes must be positive")
        self._max = max_line_bytes
        self._masker = masker
        self._pending = bytearray()
        self._omitted = 0  # > 0 while inside an over-long line

    def feed(self, chunk: bytes) -> list[str]:
        if b"\0" in chunk:
            chunk = chunk.replace(b"\0", b"")
        last = chunk.rfind(b"\n")
        if last < 0:
            self._add_partial(chunk, 0, len(chunk))
            return []
        lines: list[str] = []
        start = 0
        if self._pending or self._omitted:
            first = chunk.find(b"\n")
            self._add_partial(chunk, 0, first)
            lines.append(self._finish_line())
            start = first + 1
        if start <= last:
            body = chunk[start:last]
            if len(body) <= self._max:
                lines += self._split_short(body)
            else:
                lines += self._split_checked(body)
        self._add_partial(chunk, last + 1, len(chunk))
        return lines

    def flush(self) -> list[str]:
        if not self._pending and not self._omitted:
            return []
        return [self._finish_line()]

    @staticmethod
    def _split_short(body: bytes) -> list[str]:
        text = _decode(body)
        lines = text.split("\n")
        if "\r" in text:
            lines = [line[:-1] if line.endswith("\r") else line for line in lines]
        return lines

    def _split_checked(self, body: bytes) -> list[str]:
        lines: list[str] = []
        for raw in body.split(b"\n"):
            if len(raw) <= self._max:
                text = _decode(raw)
                lines.append(text[:-1] if text.endswith("\r") else text)
            else:
                self._add_partial(raw, 0, len(raw))
                lines.append(self._finish_line())
        return lines

    def _add_partial(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        if size <= 0:
            return
        if self._omitted:
            self._omitted += size
            return
        room = self._max - len(self._pending)
        if size <= room:
            self._pending += data[start:end]
            return
        cut = start + room
        # Never split a UTF-8 sequence: back off over continuation bytes.
        backoff = 0
        while backoff < 3 and cut > start and (data[cut] & 0xC0) == 0x80:
            cut -= 1
            backoff += 1
        self._pending += data[start:cut]
        self._omitted = end - cut

    def _finish_line(self) -> str:
        kept = bytes(self._pending)
        omitted = self._omitted
        self._pending.clear()
        self._omitted = 0
        text = _decode(kept)
        if not omitted:
            return text[:-1] if text.endswith("\r") else text
        if self._masker is not None:
            text = self._masker.mask_truncated(text)
        return f"{text} …[line cut: {len(kept) + omitted} bytes, {omitted} omitted]"
