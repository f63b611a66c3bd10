"""One read of a CSV file's bytes, before any reader decodes them (sourcespec's check).

It refuses bytes that are not UTF-8, naming the line, and finds what the readers need to know:
whether Arrow would let something through that other engines read differently (`suspect`), the
line endings, quotes, and (for the readers that ask) the empty lines. The facts are cached per
file (path, mtime, size), so an engine's reader reuses the check's pass.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import os
import re
from typing import Any, NoReturn

from meshc.errors import SourceError

BLOCK_BYTES = 8 << 20  # a read of the file; each fact is found block by block


@dataclasses.dataclass(frozen=True)
class ByteFacts:
    """What one pass over a CSV file's bytes finds, for the check and for the engines' readers.
    What costs more than a memchr-speed search is computed only for the readers that use it:
    empty lines (a search for LF LF, ~1 s per GB, which pandas and DuckDB never read) when asked,
    the line count (Spark's, for a quoted file) in a pass of its own, `line_count`."""

    suspect: bool  # what Arrow lets through: see _Suspects
    crlf: int
    cr: int
    lone_lf: bool  # an LF not preceded by CR
    quoted: bool  # any `"` byte
    unterminated: bool  # the last line has no line ending
    empty: int | None  # lines with nothing in them but CR, a leading one (after a BOM)
    # included; None when not counted
    leading_empty: bool  # the file starts with a line ending (after a UTF-8 BOM if any)


def byte_facts(path: str, delimiter: str, *, empty_lines: bool = False) -> ByteFacts:
    """The facts of a file that is UTF-8 text; SourceError naming the line otherwise (engines'
    readers replace such bytes with U+FFFD, or fail without naming the line)."""
    stat = os.stat(path)  # the check's pass is reused by the engine for an unchanged file
    return _byte_facts_of(path, stat.st_mtime_ns, stat.st_size, delimiter, empty_lines)


@functools.lru_cache(maxsize=64)
def _byte_facts_of(
    path: str, _mtime: int, _size: int, delimiter: str, empty_lines: bool
) -> ByteFacts:
    with open(path, "rb") as handle:
        bom = _bom_length(handle)
        utf8, suspects = _Utf8Check(path, bom), _Suspects(delimiter)
        endings = _LineEndings(empty_lines)
        while chunk := handle.read(BLOCK_BYTES):  # one read of the file for every fact
            utf8.feed(chunk)
            suspects.feed(chunk)
            endings.feed(chunk)
    utf8.end()
    return endings.facts(suspects.end())


def _bom_length(handle: Any) -> int:
    """Skip a UTF-8 BOM at the start of a file opened in binary; its length (0 without one)."""
    bom = len(codecs.BOM_UTF8) if handle.read(3) == codecs.BOM_UTF8 else 0
    handle.seek(bom)
    return bom


def line_count(path: str, delimiter: str) -> int:
    """The lines of a checked file (LF-terminated, plus an unterminated last one)."""
    stat = os.stat(path)
    return _line_count_of(path, stat.st_mtime_ns, stat.st_size, delimiter)


@functools.lru_cache(maxsize=64)
def _line_count_of(path: str, _mtime: int, size: int, delimiter: str) -> int:
    return _lf_before(path, size) + byte_facts(path, delimiter).unterminated


class _Utf8Check:
    """Fed a file's blocks in order, raises SourceError at the first byte that is not UTF-8.
    A character may be split between two blocks (the decoder keeps its first bytes); blocks of
    ASCII (most files) are not decoded."""

    def __init__(self, path: str, offset: int) -> None:
        self._path = path
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._offset = offset  # of the next block in the file

    def feed(self, block: bytes) -> None:
        pending = self._decoder.getstate()[0]
        try:
            if pending or not block.isascii():
                self._decoder.decode(block)
        except UnicodeDecodeError as exc:  # exc.object is pending + block
            self._fail(self._offset - len(pending) + exc.start, exc.object[exc.start])
        self._offset += len(block)

    def end(self) -> None:
        pending = self._decoder.getstate()[0]
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:  # the file ends inside a character
            self._fail(self._offset - len(pending) + exc.start, exc.object[exc.start])

    def _fail(self, offset: int, byte: int) -> NoReturn:
        not_utf8(self._path, _line_at(self._path, offset), byte)


def not_utf8(path: str, line: int, byte: int) -> NoReturn:
    raise SourceError(
        f"{path}:{line}: the file is not UTF-8 text (byte 0x{byte:02x}); re-encode it as UTF-8 "
        "(nothing was written)"
    ) from None


def _line_at(path: str, offset: int) -> int:
    """The 1-based line holding byte `offset` (a second read, on the error path only)."""
    return 1 + _lf_before(path, offset)


def _lf_before(path: str, offset: int) -> int:
    """The LFs in the file's first `offset` bytes."""
    found = 0
    with open(path, "rb") as handle:
        while offset > 0 and (block := handle.read(min(BLOCK_BYTES, offset))):
            found += block.count(b"\n")
            offset -= len(block)
    return found


class _Suspects:
    """Whether the bytes hold a CR not followed by LF, or a quote followed by a character that
    neither ends a field nor doubles the quote, where the quote does not open a field: Arrow
    reads a bare CR as a line break and `"y"z` as `yz`, other engines do not. Quoted text (a
    CR or `""` inside quotes) also matches: the slow scan tells them apart."""

    def __init__(self, delimiter: str) -> None:
        sep = re.escape(delimiter.encode())
        # Two patterns that each start with a literal byte, so `re` skips ahead to that byte:
        # one alternation starting with a lookbehind is tried at every position (~50x slower).
        # Each is searched only in a block holding its byte: `in` is a memchr, `re` is not.
        self._patterns = (
            (b"\r", re.compile(rb"\r(?!\n)")),
            (b'"', re.compile(rb'"(?<![' + sep + rb'\r\n]")(?=[^' + sep + rb'"\r\n])')),
        )
        self._carry = b""
        self._found = False

    def feed(self, chunk: bytes) -> None:
        if self._found:
            return
        # the last byte is judged with the next chunk, where its neighbour is known
        carry, self._carry = self._carry, chunk[-1:]
        self._found = any(
            (byte in chunk or byte in carry) and _found_before(pattern, carry + chunk)
            for byte, pattern in self._patterns
        )

    def end(self) -> bool:
        return self._found or any(p.search(self._carry) for _, p in self._patterns)


def _found_before(pattern: re.Pattern[bytes], buffer: bytes) -> bool:
    """Whether `pattern` matches in `buffer` before its last byte."""
    found = pattern.search(buffer)
    return found is not None and found.start() < len(buffer) - 1


class _LineEndings:
    """Line endings, empty lines and quotes, block by block. A block without CR (most files) is
    only searched (memchr speed), never counted."""

    def __init__(self, empty_lines: bool) -> None:
        self.crlf = self.cr = 0
        self.empty: int | None = 0 if empty_lines else None
        self.lone_lf = self.quoted = False
        self._head = b""  # the first two bytes
        self._last = b"\n"  # as if a line ended before the file: an empty first line is empty
        self._carry = b""  # the previous block's last byte: a CRLF may be split between two

    def feed(self, chunk: bytes) -> None:
        self._head = (self._head + chunk[:2])[:2]
        split_crlf = self._carry == b"\r" and chunk.startswith(b"\n")  # its LF follows a CR
        has_cr = b"\r" in chunk
        if has_cr:
            block_crlf = chunk.count(b"\r\n")
            self.cr += chunk.count(b"\r")
            self.crlf += block_crlf + split_crlf
            self.lone_lf = self.lone_lf or chunk.count(b"\n") > block_crlf + split_crlf
        else:
            self.crlf += split_crlf
            self.lone_lf = self.lone_lf or chunk.find(b"\n", int(split_crlf)) >= 0
        self.quoted = self.quoted or b'"' in chunk
        if self.empty is not None:
            self.empty += _empty_lines(self._last, chunk, has_cr)
        self._last = chunk[-2:].rstrip(b"\r")[-1:] or self._last
        self._carry = chunk[-1:]

    def facts(self, suspect: bool) -> ByteFacts:
        leading = self._head.startswith((b"\n", b"\r\n"))
        unterminated = self._last != b"\n"
        return ByteFacts(
            suspect,
            self.crlf,
            self.cr,
            self.lone_lf,
            self.quoted,
            unterminated,
            self.empty,
            leading,
        )


def _empty_lines(last: bytes, chunk: bytes, has_cr: bool) -> int:
    """The empty lines (CRs aside) in `chunk`, which follows a block ending in `last`."""
    edge = last == b"\n" and chunk[:2].lstrip(b"\r").startswith(b"\n")
    if not (b"\n\n" in chunk or (has_cr and b"\n\r\n" in chunk)):  # most files
        return int(edge)
    return edge + _doubled_lf(chunk.translate(None, b"\r") if has_cr else chunk)


def _doubled_lf(buffer: bytes) -> int:
    """How many LFs directly follow an LF (overlapping: a run of k LFs holds k - 1)."""
    found = 0
    while b"\n\n" in buffer:
        shorter = buffer.replace(b"\n\n", b"\n")
        found += len(buffer) - len(shorter)
        buffer = shorter
    return found
