"""The source rules every engine's reader follows (docs/semantics.md, "CSV and JSON oddities").

Each engine reads files with its own native reader, and those readers disagree on broken input:
one fills a short row with NULLs, another shifts columns, a third drops extra fields. So before
its native read, every engine's `io.read` asks this module whether the file is one meshc reads,
and for JSON takes its rows from here. The rules, once:

CSV (RFC 4180: `"` quotes, `""` escapes a quote inside quotes, quoted fields may span lines)
  - an empty line is not a row: skipped, never counted; LF and CRLF are both line endings, also
    mixed in one file;
  - bytes that are not UTF-8 (a UTF-8 BOM is fine), a row with more or fewer fields than the
    header, a quote that is never closed, text after a closing quote, a header name that is empty
    or repeated, CR-only line endings, a line ending in CR alone (outside quotes) in a file that
    uses LF or CRLF, an empty file: `SourceError` naming the file and the line, nothing written;
  - header names are taken exactly as written (` name` is not `name`).
JSON / NDJSON
  - an array of objects, or one object per line (blank lines skipped); anything else, or bytes
    that are not UTF-8, is a `SourceError` naming the file and line (or array index);
  - every value becomes text: a string its content, a number its exact source text (`1.50`),
    `true`/`false`, an object or array its compact JSON text (numbers kept as written); `null`
    and an absent key are NULL.
Every file
  - a file of a multi-file source that lacks a contract column is a `SourceError` naming the file
    (a JSON key absent from a record is NULL instead: JSON has no header);
  - a Parquet contract column must be flat: a struct, list or map column is a `SourceError`
    naming the column and its type; a nested column outside the contract is not read (neither
    kept nor reported by `model.extra_columns`); an unreadable Parquet file is a `SourceError`.
"""

from __future__ import annotations

import codecs
import csv
import functools
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from meshc.engines import byte_scan
from meshc.errors import SourceError

QUOTE = '"'
# a quoted value may span lines; one row may be this long before the fast scan gives up
_BLOCK_BYTES = 8 << 20
_SNIFF_BYTES = 64 << 10
_SCAN_BYTES = 1 << 20  # the structure check's blocks (it keeps nothing it parses)


# -- CSV ------------------------------------------------------------------------------------------
def check_csv(
    path: str,
    *,
    delimiter: str,
    header: bool,
    required: Sequence[str] = (),
    empty_lines: bool = False,
) -> tuple[str, ...]:
    """The header names (empty without a header) of a CSV file meshc can read; raise
    SourceError for a file that breaks the rules in this module's docstring. `empty_lines`:
    also count the empty lines in the same pass, for a reader that asks `has_empty_lines` or
    `has_quoted_line_breaks` next."""
    _check_line_endings(path)
    # before anything decodes the text
    suspect = byte_scan.byte_facts(path, delimiter, empty_lines=empty_lines).suspect
    first = _first_record(path, delimiter)
    if header:
        _check_names(path, first)
        _check_required(path, first, required)
    _check_rows(path, delimiter, header, len(first), suspect)
    return tuple(first) if header else ()


def _check_line_endings(path: str) -> None:
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if b"\r" in head and b"\n" not in head:
        raise SourceError(
            f"{path}: lines end with CR only (classic Mac); convert the file to LF or CRLF endings"
        )


def _first_record(path: str, delimiter: str) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        for record in csv.reader(handle, delimiter=delimiter, quotechar=QUOTE):
            if record:
                return record
    raise SourceError(f"{path}: the file is empty (no header, no rows)")


def _check_names(path: str, names: list[str]) -> None:
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if name == "":
            raise SourceError(f"{path}:1: header field {position} has no name")
        if name in seen:
            raise SourceError(f"{path}:1: the header names column {name!r} twice")
        seen.add(name)


def _check_required(path: str, present: Sequence[str], required: Sequence[str]) -> None:
    missing = [name for name in required if name not in present]
    if not missing:
        return
    from meshc.diagnostics import did_you_mean

    hints = [h for h in (did_you_mean(m, set(present)) for m in missing) if h]
    raise SourceError(
        f"{path} lacks contract column(s) {', '.join(repr(m) for m in missing)}"
        + (f" ({'; '.join(hints)})" if hints else "")
        + "; nothing was written"
    )


def _check_rows(path: str, delimiter: str, header: bool, width: int, suspect: bool) -> None:
    """Fast scans (Arrow's C++ parser, nothing converted or kept; `_Suspects` for what Arrow
    lets through); only when one objects does the slow scan run, to decide and name the line
    (Arrow counts rows, not lines)."""
    try:
        _count_rows(path, delimiter, header, skip_empty_lines=True)
    except (pa.ArrowException, OSError):
        suspect = True
    if suspect:
        _locate_bad_row(path, delimiter, width)


def mixes_line_endings(path: str, *, delimiter: str) -> bool:
    """Whether a checked CSV file ends some lines in CRLF and others in LF (a CRLF inside a
    quoted value counts too): for an engine whose reader takes one line ending from the first
    line and keeps the other's CR in the values."""
    facts = byte_scan.byte_facts(path, delimiter)
    return facts.crlf > 0 and facts.lone_lf


def ends_lines_with_crlf(path: str, *, delimiter: str) -> bool:
    """Whether every line ending of a checked CSV file is CRLF (a quoted one included): for a
    reader that must be told, or it turns a quoted CRLF into LF (Spark's multiLine)."""
    facts = byte_scan.byte_facts(path, delimiter)
    return facts.crlf > 0 and not facts.lone_lf


def has_quoted_line_breaks(path: str, *, delimiter: str, header: bool) -> bool:
    """Whether a checked CSV file holds a quoted value with a line break (LF, CRLF or CR) in it:
    for an engine that reads such a file whole (Spark's multiLine reads it as one task) and
    every other file split in parallel, one line a row. True when unsure."""
    facts = byte_scan.byte_facts(path, delimiter, empty_lines=True)
    if not facts.quoted:
        return False
    if facts.cr > facts.crlf:  # the check refuses a bare CR outside quotes: this one is inside
        return True
    try:  # the check's Arrow parse (cached): a row that spans lines makes fewer rows than lines
        records = _count_rows(path, delimiter, header, skip_empty_lines=True) + header
    except (pa.ArrowException, OSError):
        return True
    return records != byte_scan.line_count(path, delimiter) - (facts.empty or 0)


def has_empty_lines(path: str, *, delimiter: str, header: bool) -> bool:
    """Whether a checked CSV file holds an empty line (for a reader that makes rows of them).
    An empty line the byte counts see may sit inside a quoted value: then only parsing tells."""
    facts = byte_scan.byte_facts(path, delimiter, empty_lines=True)
    if facts.leading_empty:  # the header is the first line that is not empty (not parsable)
        return True
    if not facts.empty:
        return False
    kept = _count_rows(path, delimiter, header, skip_empty_lines=False)
    return kept != _count_rows(path, delimiter, header, skip_empty_lines=True)


def _count_rows(path: str, delimiter: str, header: bool, *, skip_empty_lines: bool) -> int:
    stat = os.stat(path)  # the check's scan is reused by has_empty_lines for an unchanged file
    return _count_rows_of(path, stat.st_mtime_ns, stat.st_size, delimiter, header, skip_empty_lines)


@functools.lru_cache(maxsize=64)
def _count_rows_of(
    path: str, _mtime: int, _size: int, delimiter: str, header: bool, skip_empty_lines: bool
) -> int:
    # Streamed in small blocks: `read_csv` holds ~3.5x the file at once, and the streaming
    # reader reads ~20 blocks ahead. A row longer than a block is an error here, so the exact
    # (slow) scan decides such a file.
    options = pacsv.ReadOptions(autogenerate_column_names=not header, block_size=_SCAN_BYTES)
    try:
        with pacsv.open_csv(
            path,
            read_options=options,
            parse_options=_parse_options(delimiter, skip_empty_lines),
            convert_options=pacsv.ConvertOptions(include_columns=[]),
        ) as reader:
            return sum(batch.num_rows for batch in reader)
    finally:  # Arrow's allocator keeps freed blocks: give them back before the engine reads
        pa.default_memory_pool().release_unused()


def _parse_options(delimiter: str, skip_empty_lines: bool = True) -> pacsv.ParseOptions:
    return pacsv.ParseOptions(
        delimiter=delimiter,
        quote_char=QUOTE,
        double_quote=True,
        newlines_in_values=True,
        ignore_empty_lines=skip_empty_lines,
    )


def read_csv_text(path: str, *, delimiter: str, header: bool) -> pa.Table:
    """A checked CSV file as text columns by the rules above ('' stays '', empty lines are
    skipped): for an engine whose own reader cannot skip empty lines."""
    first = _first_record(path, delimiter)
    # Arrow names the columns of a file without a header f0, f1, ...
    names = first if header else [f"f{i}" for i in range(len(first))]
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(
            autogenerate_column_names=not header, block_size=_BLOCK_BYTES
        ),
        parse_options=_parse_options(delimiter),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            null_values=[],
        ),
    )


def _locate_bad_row(path: str, delimiter: str, width: int) -> None:
    # the csv module refuses fields over 128 KB by default; a value has no size limit here
    previous = csv.field_size_limit(_NO_FIELD_LIMIT)
    try:
        _scan_rows(path, delimiter, width)
    finally:
        csv.field_size_limit(previous)


_NO_FIELD_LIMIT = 2**31 - 1  # the largest a C long holds everywhere


def _scan_rows(path: str, delimiter: str, width: int) -> None:
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        lines = _LastLine(handle)
        reader = csv.reader(lines, delimiter=delimiter, quotechar=QUOTE, strict=True)
        start = 1
        try:
            for record in reader:
                if lines.last.endswith("\r"):  # the record ended at a CR outside quotes
                    raise SourceError(
                        f"{path}:{reader.line_num}: the line ends with a bare CR (no LF); give "
                        "every line LF or CRLF endings (nothing was written)"
                    )
                if record and len(record) != width:
                    raise SourceError(
                        f"{path}:{start}: the row has {len(record)} field(s), the header "
                        f"{width}; fix the row (nothing was written)"
                    )
                start = reader.line_num + 1
        except csv.Error as exc:
            if "end of data" in str(exc):
                raise SourceError(
                    f"{path}:{start}: a quoted field opened on this line is never closed"
                ) from None
            if "expected after" in str(exc):
                raise SourceError(
                    f"{path}:{reader.line_num}: text after the closing quote of a field; quote "
                    'the whole value ("a""b" for a quote inside it) (nothing was written)'
                ) from None
            raise SourceError(f"{path}:{start}: malformed CSV: {exc}") from None


class _LastLine:
    """The lines of a file (split at LF, CRLF and bare CR, endings kept), remembering the last
    one read: the csv reader pulls lines only until a record ends, so after each record this
    is the line that ended it."""

    def __init__(self, handle: Iterator[str]) -> None:
        self._handle = handle
        self.last = ""

    def __iter__(self) -> _LastLine:
        return self

    def __next__(self) -> str:
        self.last = next(self._handle)
        return self.last


# -- JSON -----------------------------------------------------------------------------------------
class _Number(str):
    """A JSON number kept as its source text."""


def read_json_table(path: str) -> pa.Table:
    """Every record of a JSON array or NDJSON file as a table of text columns (keys in order of
    first appearance)."""
    records = list(_json_records(path))
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    columns = {
        name: pa.array([_as_text(r.get(name)) for r in records], pa.string()) for name in names
    }
    return pa.table(columns) if columns else pa.table({})


def _json_records(path: str) -> Iterator[dict[str, Any]]:
    text = _utf8_text(path)
    if text.lstrip().startswith("["):
        data = _loads(path, text, 1)
        for index, record in enumerate(data):
            if not isinstance(record, dict):
                raise SourceError(f"{path}: element {index} of the array is not an object")
            yield record
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            record = _loads(path, line, number)
            if not isinstance(record, dict):
                raise SourceError(
                    f"{path}:{number}: not a JSON object (a JSON source is an array of "
                    "objects or one object per line)"
                )
            yield record


def _utf8_text(path: str) -> str:
    """The whole file as text (a UTF-8 BOM dropped); SourceError naming the line otherwise."""
    data = Path(path).read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte_scan.not_utf8(path, data.count(b"\n", 0, exc.start) + 1, data[exc.start])


def _loads(path: str, text: str, first_line: int) -> Any:
    try:
        return json.loads(text, parse_int=_Number, parse_float=_Number, parse_constant=_Number)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{path}:{first_line + exc.lineno - 1}: invalid JSON ({exc.msg}); a JSON source is "
            "an array of objects or one object per line"
        ) from None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return _compact(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compact(value: Any) -> str:
    """JSON text without spaces, numbers as written (json.dumps would quote them)."""
    if isinstance(value, dict):
        items = (f"{json.dumps(k, ensure_ascii=False)}:{_compact(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_compact(v) for v in value) + "]"
    if isinstance(value, _Number):
        return str.__str__(value)
    return json.dumps(value, ensure_ascii=False)


# -- Parquet --------------------------------------------------------------------------------------
def check_parquet(path: str, required: Sequence[str] = ()) -> tuple[str, ...]:
    """The nested columns outside `required` (left unread when reading for a contract); raise
    SourceError for an unreadable file, a missing required column or a nested one."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(f"{path} is not a readable Parquet file: {exc}") from None
    _check_required(path, schema.names, required)
    for name in required:
        kind = schema.field(name).type
        if pa.types.is_nested(kind):
            raise SourceError(
                f"{path}: column {name!r} is {kind}; a contract column must be a flat value "
                "(flatten it or store it as JSON text)"
            )
    if not required:  # a read without a contract (tools, tests) keeps every column
        return ()
    return tuple(f.name for f in schema if pa.types.is_nested(f.type) and f.name not in required)


def unread_columns(found: dict[str, tuple[str, ...]]) -> list[str]:
    """The nested Parquet columns of any file (`spec.source_files`' findings), in first-seen
    order."""
    return list(dict.fromkeys(name for names in found.values() for name in names))
