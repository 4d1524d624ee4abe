"""The output pipeline: splitting, decoding, cutting and masking, on real bytes."""

from __future__ import annotations

import pytest

from cloudlabmanager.jobs.output import MASK, LineSplitter, SecretMasker


def split_all(data: bytes, max_line_bytes: int = 1024, chunk: int = 7) -> list[str]:
    splitter = LineSplitter(max_line_bytes)
    lines: list[str] = []
    for offset in range(0, len(data), chunk):
        lines += splitter.feed(data[offset : offset + chunk])
    return lines + splitter.flush()


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 65536])
def test_lines_are_split_whatever_the_chunking(chunk: int) -> None:
    data = b"one\ntwo\r\n\nthree\r\nfour"
    assert split_all(data, chunk=chunk) == ["one", "two", "", "three", "four"]


def test_no_final_newline_is_a_line_at_flush_only() -> None:
    splitter = LineSplitter(100)
    assert splitter.feed(b"a\nb") == ["a"]
    assert splitter.feed(b"c") == []
    assert splitter.flush() == ["bc"]
    assert splitter.flush() == []


def test_lone_carriage_return_inside_a_line_is_kept() -> None:
    assert split_all(b"50%\r100%\n") == ["50%\r100%"]


@pytest.mark.parametrize("chunk", [1, 3, 65536])
def test_invalid_utf8_is_replaced_and_valid_multibyte_survives_chunking(chunk: int) -> None:
    data = "héllo €\n".encode() + b"bad \xff\xfe end\n" + b"cut \xe2\x82\n"
    assert split_all(data, chunk=chunk) == ["héllo €", "bad \ufffd\ufffd end", "cut \ufffd"]


def test_nul_bytes_are_stripped_and_ansi_is_kept() -> None:
    data = b"a\x00b\n\x1b[31mred\x1b[0m\n"
    assert split_all(data) == ["ab", "\x1b[31mred\x1b[0m"]


def test_sse_like_lines_pass_through_as_plain_text() -> None:
    data = b"data: x\nevent: done\nid: 5\n\nretry: 1\n"
    assert split_all(data) == ["data: x", "event: done", "id: 5", "", "retry: 1"]


@pytest.mark.parametrize("chunk", [4096, 65536, 2_000_000])
def test_a_one_megabyte_line_is_cut_with_a_marker(chunk: int) -> None:
    long_line = b"x" * 1_048_576
    lines = split_all(b"before\n" + long_line + b"\nafter\n", max_line_bytes=65536, chunk=chunk)
    assert lines[0] == "before"
    assert lines[2] == "after"
    assert len(lines) == 3
    assert lines[1] == "x" * 65536 + " …[line cut: 1048576 bytes, 983040 omitted]"


def test_an_endless_line_does_not_grow_memory() -> None:
    splitter = LineSplitter(1000)
    for _ in range(2000):  # 128 MB without a newline
        assert splitter.feed(b"y" * 65536) == []
        assert len(splitter._pending) <= 1000
    [line] = splitter.flush()
    assert line.startswith("y" * 1000 + " …[line cut: 131072000 bytes, 131071000 omitted]")


def test_a_line_of_exactly_the_limit_is_not_cut() -> None:
    assert split_all(b"z" * 100 + b"\n", max_line_bytes=100) == ["z" * 100]
    assert split_all(b"z" * 101 + b"\n", max_line_bytes=100) == [
        "z" * 100 + " …[line cut: 101 bytes, 1 omitted]"
    ]


def test_the_cut_never_splits_a_multibyte_character() -> None:
    data = ("€" * 10 + "\n").encode()  # 3 bytes each
    [line] = split_all(data, max_line_bytes=10)
    assert line == "€€€ …[line cut: 30 bytes, 21 omitted]"


def test_a_secret_straddling_the_cut_is_masked() -> None:
    masker = SecretMasker(["hunter2secret"])
    splitter = LineSplitter(10, masker=masker)
    [line] = splitter.feed(b"abcdehunter2secret and more\n")
    assert "hunter" not in line
    assert line.startswith("abcde" + MASK + " …[line cut:")


def test_masker_masks_literal_metacharacter_secrets() -> None:
    masker = SecretMasker(["a$b*c(.", "x+y?[z]\\1"])
    assert masker.mask("pw=a$b*c(. end") == f"pw={MASK} end"
    assert masker.mask("ab*c( a$b*c") == "ab*c( a$b*c"  # no regex semantics
    assert masker.mask("x+y?[z]\\1") == MASK


def test_masker_masks_url_encoded_forms() -> None:
    secret = "p@ss w/rd&=+"
    masker = SecretMasker([secret])
    for encoded in ("p%40ss%20w%2Frd%26%3D%2B", "p%40ss+w%2Frd%26%3D%2B", "p%40ss%20w/rd%26%3D%2B"):
        assert masker.mask(f"https://u:{encoded}@host/") == f"https://u:{MASK}@host/"
    assert masker.mask("https://u:p%40ss%20w%2frd%26%3d%2b@h") == f"https://u:{MASK}@h"


def test_masker_masks_every_occurrence_and_overlaps_fully() -> None:
    masker = SecretMasker(["abcd", "cdef", "abcdefgh", "zz"])
    assert masker.mask("abcdefgh abcd cdef") == f"{MASK} {MASK} {MASK}"
    assert masker.mask("xxabcdefyy") == f"xx{MASK}yy"  # abcd + cdef overlap: no fragment
    assert masker.mask("zzzzz") == MASK


def test_masker_ignores_empty_secrets_and_passes_clean_lines_unchanged() -> None:
    masker = SecretMasker(["", "s3cr3t"])
    line = "nothing to see"
    assert masker.mask(line) is line
    assert masker.mask("") == ""
    assert SecretMasker([]).mask_lines(["a", "b"]) == ["a", "b"]


def test_multiline_secret_is_masked_line_by_line() -> None:
    key = "-----BEGIN KEY-----\nAAAAB3NzaC1yc2E\n-----END KEY-----"
    masker = SecretMasker([key])
    assert masker.mask("AAAAB3NzaC1yc2E") == MASK


def test_mask_lines_only_touches_lines_with_secrets() -> None:
    masker = SecretMasker(["tok3n"])
    assert masker.mask_lines(["a", "x tok3n y", "b"]) == ["a", f"x {MASK} y", "b"]
    assert masker.mask_lines(["tok", "3n"]) == ["tok", "3n"]  # never across lines


def test_200000_lines_through_the_pipeline_keep_count_and_order() -> None:
    secret = "v@ult$pw*("
    data = "".join(
        f"line {i} {secret if i % 1000 == 0 else 'plain'}\n" for i in range(200_000)
    ).encode()
    splitter = LineSplitter(65536)
    masker = SecretMasker([secret])
    lines: list[str] = []
    for offset in range(0, len(data), 65536):
        lines += masker.mask_lines(splitter.feed(data[offset : offset + 65536]))
    lines += masker.mask_lines(splitter.flush())
    assert len(lines) == 200_000
    for i, line in enumerate(lines):
        assert line == f"line {i} {MASK if i % 1000 == 0 else 'plain'}"
