"""Sources that are not what the contract expects: one clear SourceError naming the file (and the
column or line), the same on every engine, never a crash or a silent NULL fill.

The CSV and JSON oddities of single files live in the conformance corpus (`drift_csv_*`,
`drift_json_*`); this file holds what needs several files, Parquet, or the CLI.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from meshc import DataProcessor
from meshc.engines import byte_scan, sourcespec
from meshc.errors import SourceError
from tests.conftest import run_meshc

ENGINES = ["polars", "pandas", "duckdb", pytest.param("spark", marks=pytest.mark.spark)]

CONTRACT = """\
info: {version: 1, name: sources, domain: tests, owner: tests@meshc.dev}
model:
  extra_columns: EXTRA
  fields:
    - {name: id, type: string, required: true}
    - {name: n, type: integer}
"""


def _contract(tmp_path: Path, extra: str = "drop") -> Path:
    path = tmp_path / "contract.yaml"
    path.write_text(CONTRACT.replace("EXTRA", extra), encoding="utf-8")
    return path


def _run(tmp_path: Path, engine: str, source: Path | str, extra: str = "drop") -> object:
    processor = DataProcessor(_contract(tmp_path, extra), engine=engine, root=tmp_path)
    return processor.run_source(source, write=False)


# -- item 11: every file of a folder source must hold every contract column --------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_folder_file_lacking_a_contract_column_is_a_source_error_naming_it(
    engine: str, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("id,n\nr1,1\n", encoding="utf-8")
    (folder / "b.csv").write_text("id,other\nr2,x\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"b\.csv lacks contract column\(s\) 'n'"):
        _run(tmp_path, engine, folder)


@pytest.mark.parametrize("engine", ENGINES)
def test_folder_parquet_file_lacking_a_contract_column_is_a_source_error_naming_it(
    engine: str, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(pa.table({"id": ["r1"], "n": [1]}), folder / "a.parquet")
    pq.write_table(pa.table({"id": ["r2"]}), folder / "b.parquet")
    with pytest.raises(SourceError, match=r"b\.parquet lacks contract column\(s\) 'n'"):
        _run(tmp_path, engine, folder)


@pytest.mark.parametrize("engine", ENGINES)
def test_folder_files_with_different_extra_columns_are_concatenated_by_name(
    engine: str, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("id,n,x\nr1,1,a\n", encoding="utf-8")
    (folder / "b.csv").write_text("n,id\n2,r2\n\n", encoding="utf-8")
    result = _run(tmp_path, engine, folder)
    assert (result.rows_in, result.rows_valid) == (2, 2)  # type: ignore[attr-defined]


# -- item 17: Parquet that used to crash --------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_parquet_nested_contract_column_is_a_source_error_naming_column_and_type(
    engine: str, tmp_path: Path
) -> None:
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"id": ["r1"], "n": [[1, 2]]}), path)
    with pytest.raises(SourceError, match=r"nested.parquet: column 'n' is list<"):
        _run(tmp_path, engine, path)


@pytest.mark.parametrize("extra", ["drop", "keep"])
@pytest.mark.parametrize("engine", ENGINES)
def test_parquet_nested_columns_outside_the_contract_are_not_read(
    engine: str, extra: str, tmp_path: Path
) -> None:
    path = tmp_path / "nested.parquet"
    table = pa.table({"id": ["r1", "r2"], "n": [1, 2], "s": [{"k": 1}, {"k": 2}], "l": [[1], []]})
    pq.write_table(table, path)
    result = _run(tmp_path, engine, path, extra)
    from meshc.engines.registry import get_engine

    valid = get_engine(engine).to_arrow(result.valid_frame)  # type: ignore[attr-defined]
    assert valid.column_names[:2] == ["id", "n"]
    assert "s" not in valid.column_names and "l" not in valid.column_names
    assert valid.num_rows == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_truncated_parquet_is_a_source_error_naming_the_file(engine: str, tmp_path: Path) -> None:
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(50)], "n": list(range(50))}), whole)
    data = whole.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"cut\.parquet is not a readable Parquet file"):
        _run(tmp_path, engine, cut)


@pytest.mark.parametrize("engine", ENGINES)
def test_json_array_of_non_objects_is_a_source_error_naming_the_element(
    engine: str, tmp_path: Path
) -> None:
    path = tmp_path / "rows.json"
    path.write_text('[{"id": "r1", "n": 1}, 5]', encoding="utf-8")
    with pytest.raises(SourceError, match=r"rows\.json: element 1 of the array is not an object"):
        _run(tmp_path, engine, path)


# -- item 17: messages that named the wrong problem ---------------------------------------------
def test_glob_matching_nothing_says_so(tmp_path: Path) -> None:
    pattern = str(tmp_path / "nothing-*.csv")
    with pytest.raises(SourceError, match=r"no files match .*nothing-\*\.csv"):
        _run(tmp_path, "polars", pattern)


def test_empty_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match=r"no files in .*empty"):
        _run(tmp_path, "polars", tmp_path / "empty")


def test_cli_glob_matching_nothing_exits_2_with_the_glob(tmp_path: Path) -> None:
    contract = _contract(tmp_path)
    pattern = str(tmp_path / "nothing-*.csv")
    done = run_meshc("run", "-c", str(contract), "--source", pattern, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"no files match {pattern}" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_broken_csv_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    contract = _contract(tmp_path)
    source = tmp_path / "rows.csv"
    source.write_text(textwrap.dedent("id,n\nr1,1\nr2,2,3\n"), encoding="utf-8")
    done = run_meshc("run", "-c", str(contract), "--source", str(source), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{source}:3: the row has 3 field(s), the header 2" in done.stderr
    assert not list(tmp_path.glob("**/*.parquet"))  # nothing written


def test_temp_files_that_cannot_be_written_are_named_as_such_not_as_the_source(
    tmp_path: Path,
) -> None:
    """A full temp dir (here: a file-size limit, EFBIG, as a full disk cannot be made portably)
    while streaming the outputs to spill files is a write failure of the temp dir, exit 2."""
    import resource
    import signal
    import subprocess
    import sys

    source = tmp_path / "rows.csv"
    source.write_text("id,n\n" + "".join(f"r{i},{i * 7919}\n" for i in range(20000)))
    contract = _contract(tmp_path)

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (32 << 10, 32 << 10))

    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "meshc", "run", "-c", str(contract), "-s", str(source)]
        + ["-o", str(out / "v.parquet"), "-q", str(out / "q.parquet")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        preexec_fn=limit_file_size,
    )
    assert done.returncode == 2, done.stderr
    assert "cannot write temporary files in" in done.stderr, done.stderr
    assert "cannot read the source" not in done.stderr
    assert not list(out.glob("*.parquet"))


# -- review: line endings and quotes the structure check used to let through ------------------
def _ids_and_ns(tmp_path: Path, engine: str, text: bytes) -> list[tuple[str, int]]:
    source = tmp_path / "rows.csv"
    source.write_bytes(text)
    processor = DataProcessor(_contract(tmp_path), engine=engine, root=tmp_path)
    result = processor.run_source(
        source, output=tmp_path / "v.parquet", quarantine=tmp_path / "q.parquet"
    )
    assert result.rows_quarantined == 0
    rows = pq.read_table(tmp_path / "v.parquet").to_pylist()
    return sorted((r["id"], r["n"]) for r in rows)


@pytest.mark.parametrize(
    "text",
    [
        b"id,n\nr1,1\nr2,2\r\nr3,3\r\n",  # LF, then CRLF at the end (an edited file)
        b"id,n\r\nr1,1\nr2,2\r\nr3,3",  # CRLF header, alternating, no final line ending
    ],
    ids=["lf_then_crlf", "alternating"],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_mixed_lf_and_crlf_are_both_line_endings_and_no_value_keeps_a_cr(
    engine: str, text: bytes, tmp_path: Path
) -> None:
    assert _ids_and_ns(tmp_path, engine, text) == [("r1", 1), ("r2", 2), ("r3", 3)]


@pytest.mark.parametrize("engine", ENGINES)
def test_cr_and_doubled_quotes_inside_a_quoted_value_are_part_of_the_value(
    engine: str, tmp_path: Path
) -> None:
    text = b'id,n\n"r\r1",1\n"r""2""",2\n'
    assert _ids_and_ns(tmp_path, engine, text) == [("r\r1", 1), ('r"2"', 2)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"id,n\nr1,1\rr2,2\rr3,3\r", r"rows\.csv:2: the line ends with a bare CR"),
        (b"id,n\r\nr1,1\r\nr2,2\rr3,3\r\n", r"rows\.csv:3: the line ends with a bare CR"),
        (b"id,n\nr1,1\nr2,2\r", r"rows\.csv:3: the line ends with a bare CR"),
        (b'id,n\nr1,1\n"r2"x,2\n', r"rows\.csv:3: text after the closing quote"),
        (b'id,n\nr1,"1" \n', r"rows\.csv:2: text after the closing quote"),
    ],
    ids=["cr_in_lf_file", "cr_in_crlf_file", "cr_at_end", "junk_after_quote", "space_after"],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_bare_cr_or_text_after_a_closing_quote_is_a_source_error_naming_the_line(
    engine: str, text: bytes, message: str, tmp_path: Path
) -> None:
    source = tmp_path / "rows.csv"
    source.write_bytes(text)
    with pytest.raises(SourceError, match=message):
        _run(tmp_path, engine, source)


@pytest.mark.parametrize(
    "text",
    [
        b"\nid,n\nr1,1\nr2,2\n",  # an empty line before the header
        b"\r\n\r\nid,n\r\nr1,1\r\nr2,2\r\n",
        b"\xef\xbb\xbf\nid,n\nr1,1\nr2,2\n",  # after a UTF-8 BOM
        b"id,n\nr1,1\n\nr2,2\n\n",  # between rows and at the end
    ],
    ids=["before_header", "crlf_before_header", "after_bom", "between_rows"],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_empty_lines_anywhere_are_no_rows(engine: str, text: bytes, tmp_path: Path) -> None:
    assert _ids_and_ns(tmp_path, engine, text) == [("r1", 1), ("r2", 2)]


@pytest.mark.parametrize(
    "text",
    [
        b'\n\nid,n\n"r\n\n1",1\nr2,2\n',  # a quoted value spans lines, one of them empty
        b'\n\r\nid,n\r\n"r\n\n1",1\nr2,2\r\n',  # and LF and CRLF are mixed
    ],
    ids=["quoted_newlines", "mixed_endings"],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_empty_lines_before_the_header_leave_quoted_values_whole(
    engine: str, text: bytes, tmp_path: Path
) -> None:
    assert _ids_and_ns(tmp_path, engine, text) == [("r\n\n1", 1), ("r2", 2)]


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_lines_before_the_header_count_no_source_row(engine: str, tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    source.write_bytes(b"\n\nid,n\nr1,1\nr2,x\n")
    result = _run(tmp_path, engine, source)
    counts = (result.rows_in, result.rows_valid, result.rows_quarantined)  # type: ignore[attr-defined]
    assert counts == (2, 1, 1)
    from meshc.engines.registry import get_engine

    quarantine = get_engine(engine).to_arrow(result.quarantine_frame)  # type: ignore[attr-defined]
    assert quarantine.column("id").to_pylist() == ["r2"]


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_lines_before_the_first_row_of_a_file_without_header_are_no_rows(
    engine: str, tmp_path: Path
) -> None:
    from meshc.engines.registry import get_engine

    source = tmp_path / "rows.csv"
    source.write_bytes(b"\n\r\nr1;1\r\nr2;2\r\n")
    reader = get_engine(engine)
    table = reader.to_arrow(reader.read([str(source)], "csv", delimiter=";", header=False))
    assert sorted(tuple(row.values()) for row in table.to_pylist()) == [("r1", "1"), ("r2", "2")]


@pytest.mark.parametrize(
    ("text", "line", "byte"),
    [
        (b"id,n\nr1,1\ncaf\xe9,2\n", 3, "e9"),  # Latin-1 bytes
        (b"id,n,x\xe9\nr1,1,a\n", 1, "e9"),
        (b"\xef\xbb\xbf\nid,n\nr1,1\ncaf\xc3\xa9,2\nr\xe9,3\n", 5, "e9"),  # after valid UTF-8
        (b"id,n\nr1,1\nr2,\xe2\x82\n", 3, "e2"),  # a character cut short at the end
    ],
    ids=["in_a_row", "in_the_header", "after_bom_and_utf8", "truncated_at_the_end"],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_a_file_that_is_not_utf8_is_a_source_error_naming_the_line(
    engine: str, text: bytes, line: int, byte: str, tmp_path: Path
) -> None:
    source = tmp_path / "rows.csv"
    source.write_bytes(text)
    message = rf"rows\.csv:{line}: the file is not UTF-8 text \(byte 0x{byte}\); re-encode it"
    with pytest.raises(SourceError, match=message):
        _run(tmp_path, engine, source, extra="keep")


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("rows.ndjson", b'{"id": "r1", "n": 1}\n\n{"id": "caf\xe9", "n": 2}\n', 3),
        ("rows.json", b'\xef\xbb\xbf[{"id": "r1", "n": 1},\n {"id": "caf\xe9", "n": 2}]\n', 2),
    ],
    ids=["ndjson", "json_array_after_bom"],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_a_json_file_that_is_not_utf8_is_a_source_error_naming_the_line(
    engine: str, name: str, text: bytes, line: int, tmp_path: Path
) -> None:
    source = tmp_path / name
    source.write_bytes(text)
    message = rf"{re.escape(name)}:{line}: the file is not UTF-8 text \(byte 0xe9\)"
    with pytest.raises(SourceError, match=message):
        _run(tmp_path, engine, source)


@pytest.mark.parametrize("block", [1, 2, 3, 5])
def test_utf8_characters_split_between_scan_blocks_are_text(
    block: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every block size below a character's length cuts some character (2, 3 and 4 bytes) in two
    monkeypatch.setattr(byte_scan, "BLOCK_BYTES", block)
    good = tmp_path / "good.csv"
    good.write_bytes("\ufeffid,n\nçé,1\n€,2\n\U0001d11e,3\n".encode())
    assert sourcespec.check_csv(str(good), delimiter=",", header=True) == ("id", "n")
    bad = tmp_path / "bad.csv"
    bad.write_bytes("id,n\n€,1\n".encode() + b"\xe2\x82,2\n")  # a cut € in a row
    with pytest.raises(SourceError, match=r"bad\.csv:3: the file is not UTF-8 text \(byte 0xe2\)"):
        sourcespec.check_csv(str(bad), delimiter=",", header=True)


# files whose line facts depend on bytes a block boundary can split: CRLF, empty lines, quotes
LINE_FACT_TEXTS = [
    b"id,n\r\n1,2\n3,4\r\n",  # mixed endings
    b"id,n\n1,2\r\n",
    b"id,n\r\n1,2\r\n3,4\r\n",  # CRLF only
    b"\xef\xbb\xbf\r\nid,n\r\n1,2\r\n\r\n3,4",  # BOM, leading and inner empty lines, unterminated
    b"id,n\n\n\n1,2\n",
    b'id,n\n1,"a\nb"\n2,"c\r\nd"\r\n',  # quoted line breaks, mixed endings
    b'id,n\n1,"a\rb"\n',  # a CR inside quotes
    b'id,n\n1,"say ""hi"""\n2,"a,b"\n',  # quotes, no line break
    b'id,n\n1,a"b\n',  # a stray quote
    b"id,n\n1,2\r3,4\n",  # a bare CR
]


def _line_facts(path: Path) -> tuple[object, ...]:
    name, options = str(path), {"delimiter": ","}
    try:
        sourcespec.check_csv(name, header=True, **options)
    except SourceError as exc:
        return ("refused", str(exc).replace(name, "<file>"))
    return (
        sourcespec.mixes_line_endings(name, **options),
        sourcespec.has_quoted_line_breaks(name, header=True, **options),
        sourcespec.has_empty_lines(name, header=True, **options),
    )


@pytest.mark.parametrize("text", LINE_FACT_TEXTS, ids=range(len(LINE_FACT_TEXTS)))
def test_line_facts_do_not_depend_on_where_the_scan_cuts_blocks(
    text: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = tmp_path / "whole.csv"
    whole.write_bytes(text)
    expected = _line_facts(whole)
    body = text.removeprefix(b"\xef\xbb\xbf")
    if expected[0] != "refused":  # a reference for one fact: some lines CRLF, some LF alone
        assert expected[0] == (b"\r\n" in body and re.search(rb"(?<!\r)\n", body) is not None)
    for block in (1, 2, 3, 5):
        monkeypatch.setattr(byte_scan, "BLOCK_BYTES", block)
        cut = tmp_path / f"cut{block}.csv"  # a new path: the facts are cached per file
        cut.write_bytes(text)
        assert _line_facts(cut) == expected, block


@pytest.mark.parametrize("engine", ENGINES)
def test_an_empty_line_inside_a_quoted_value_is_part_of_the_value(
    engine: str, tmp_path: Path
) -> None:
    assert _ids_and_ns(tmp_path, engine, b'id,n\n"r\n\n1",1\n') == [("r\n\n1", 1)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_row_longer_than_the_structure_scans_block_is_read(engine: str, tmp_path: Path) -> None:
    long = "x" * (700 << 10)  # twice, quoted: longer than the fast scan's 1 MB blocks
    text = f'id,n\nr1,1\n"{long}\n{long}",2\n'.encode()
    assert _ids_and_ns(tmp_path, engine, text) == [("r1", 1), (f"{long}\n{long}", 2)]


def test_a_short_row_after_a_long_one_is_named_by_its_line(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    source.write_bytes(f'id,n\n"{"x" * (3 << 20)}",1\nr2\n'.encode())
    with pytest.raises(SourceError, match=r"rows\.csv:3: the row has 1 field\(s\), the header 2"):
        _run(tmp_path, "polars", source)


# -- a folder never reads another job's temporary or staging files ------------------------------
# what a failed or running Spark/Hadoop job leaves in a folder next to its finished parts
JOB_LEFTOVERS = {
    "part-0.csv": "id,n\nr0,0\n",
    "_temporary/0/part-1.csv": "id,n\nt1,1\n",
    ".staging/x.csv": "id,n\ns1,1\n",
    "sub/part-2.csv": "id,n\nr2,2\nr3,3\n",
}


def _job_folder(parent: Path, name: str) -> Path:
    for relative, text in JOB_LEFTOVERS.items():
        path = parent / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return parent / name


@pytest.mark.parametrize("name", ["landing", "_landing", ".landing"])
def test_a_folder_skips_files_under_hidden_folders_below_it(name: str, tmp_path: Path) -> None:
    from meshc.runner.sources import resolve_source

    folder = _job_folder(tmp_path, name)  # the folder named may itself start with '_' or '.'
    expected = (str(folder / "part-0.csv"), str(folder / "sub" / "part-2.csv"))
    assert resolve_source(str(folder)).paths == expected
    assert resolve_source(str(folder / "**" / "*.csv")).paths == expected
    # named on purpose, a hidden folder is read
    assert resolve_source(str(folder / "_temporary")).paths == (
        str(folder / "_temporary" / "0" / "part-1.csv"),
    )
    assert resolve_source(str(folder / ".staging" / "*.csv")).paths == (
        str(folder / ".staging" / "x.csv"),
    )


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_cli_run_on_a_folder_counts_and_records_only_the_files_it_reads(
    engine: str, tmp_path: Path
) -> None:
    import json

    folder = _job_folder(tmp_path, "landing")
    contract = _contract(tmp_path)
    contract.write_text(CONTRACT.replace("EXTRA", "drop") + "lineage: {enabled: true}\n", "utf-8")
    done = run_meshc(
        *("run", "-c", str(contract), "--source", str(folder), "-e", engine),
        *("-o", str(tmp_path / "valid.csv"), "-q", str(tmp_path / "quarantine.csv")),
        *("--root", str(tmp_path / "lake"), "--format", "json", "--quiet"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"] == {"in": 3, "valid": 3, "quarantined": 0}
    record = json.loads(Path(report["lineage"]["record_path"]).read_text(encoding="utf-8"))
    read = [str(folder / "part-0.csv"), str(folder / "sub" / "part-2.csv")]
    assert [i["name"] for i in record["inputs"]] == read
    event = json.loads(Path(report["lineage"]["openlineage_event"]).read_text(encoding="utf-8"))
    assert [i["name"] for i in event["inputs"]] == read
