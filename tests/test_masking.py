"""PII masking is identical on every engine and never leaks through the quarantine; `hash` is a
keyed hash (HMAC-SHA256) that refuses to run without a key."""

from __future__ import annotations

import hashlib
import hmac
import json
import textwrap
from pathlib import Path

import pytest

from meshc import DataProcessor
from tests.conftest import TEST_MASKING_KEY, run_meshc

ENGINES = ["polars", "pandas", "duckdb", pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture
def pii_contract(tmp_path: Path) -> tuple[Path, Path]:
    contract = tmp_path / "people.yaml"
    contract.write_text(
        textwrap.dedent("""\
        info: {version: 1, name: people, domain: hr, layer: silver}
        model:
          fields:
            - {name: id, type: string, required: true}
            - {name: email, type: string, pii: true, masking: hash}
            - {name: ssn, type: string, pii: true, masking: partial, pattern: '^[0-9]{3}-[0-9]{2}-[0-9]{4}$'}
            - {name: name, type: string, pii: true, masking: redact}
            - {name: salary, type: integer, pii: true, masking: nullify, min: 0}
        """)
    )
    data = tmp_path / "people.csv"
    data.write_text(
        "id,email,ssn,name,salary\n"
        "1,ann@x.com,123-45-6789,Ann,100\n"
        "2,bob@x.com,bad-ssn-99,Bob,200\n"
        "3,,987-65-4321,,-5\n"
    )
    return contract, data


@pytest.mark.parametrize("engine", ENGINES)
def test_masking_on_outputs_and_quarantine(engine: str, pii_contract: tuple[Path, Path]) -> None:
    contract, data = pii_contract
    result = DataProcessor(contract, engine=engine).run_source(data, write=False)
    valid = result.valid_arrow().to_pylist()
    assert [r["id"] for r in valid] == ["1"]
    assert valid[0]["email"] == _hmac(TEST_MASKING_KEY, "ann@x.com")
    assert valid[0]["ssn"] == "*******6789" and valid[0]["name"] == "[REDACTED]"
    assert valid[0]["salary"] is None
    quarantine = {r["id"]: r for r in result.quarantine_arrow().to_pylist()}
    assert set(quarantine) == {"2", "3"}
    bob = quarantine["2"]
    assert bob["ssn"] == "******n-99" and bob["name"] == "[REDACTED]"
    (reason,) = bob["_meshc_reasons"]
    assert reason["rule_id"] == "ssn.pattern" and reason["value"] == "******n-99"
    assert "bad-ssn-99" not in str(quarantine) and "Bob" not in str(quarantine)
    carol = quarantine["3"]
    assert carol["email"] is None and carol["salary"] is None
    assert [r["rule_id"] for r in carol["_meshc_reasons"]] == ["salary.range"]
    assert carol["_meshc_reasons"][0]["value"] is None  # nullified, like the column


def _hmac(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def _hashed(engine: str, contract: Path, data: Path) -> list[str | None]:
    result = DataProcessor(contract, engine=engine).run_source(data, write=False)
    rows = [*result.valid_arrow().to_pylist(), *result.quarantine_arrow().to_pylist()]
    return [r["email"] for r in sorted(rows, key=lambda r: r["id"])]


@pytest.mark.parametrize("engine", ENGINES)
def test_hash_is_an_hmac_keyed_by_the_configured_key(
    engine: str, pii_contract: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same key: Python's hmac digest on every engine (NULL stays NULL); another key: another."""
    emails = ["ann@x.com", "bob@x.com", None]
    assert _hashed(engine, *pii_contract) == [e and _hmac(TEST_MASKING_KEY, e) for e in emails]
    other = "another-key-of-enough-length-0123456789"
    monkeypatch.setenv("MESHC_MASKING_KEY", other)
    assert _hashed(engine, *pii_contract) == [e and _hmac(other, e) for e in emails]
    assert hashlib.sha256(b"ann@x.com").hexdigest() not in _hashed(engine, *pii_contract)


def test_a_key_file_holds_the_key(
    pii_contract: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "masking.key"
    secret.write_text("key-from-a-mounted-secret-file\n")  # the trailing newline is not the key
    monkeypatch.delenv("MESHC_MASKING_KEY")
    monkeypatch.setenv("MESHC_MASKING_KEY_FILE", str(secret))
    assert _hashed("polars", *pii_contract)[0] == _hmac(
        "key-from-a-mounted-secret-file", "ann@x.com"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "MESHC_MASKING_KEY_FILE"),
        ({"MESHC_MASKING_KEY": "short"}, "shorter than 16 bytes"),
        ({"MESHC_MASKING_KEY_FILE": "/nonexistent/masking.key"}, "cannot read the masking key"),
    ],
)
def test_hash_without_a_usable_key_fails_before_reading(
    env: dict[str, str],
    message: str,
    pii_contract: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No unkeyed fallback: a clean error (exit 2) naming both variables, and nothing written."""
    contract, _data = pii_contract
    monkeypatch.delenv("MESHC_MASKING_KEY")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    missing_source = tmp_path / "not-read.csv"  # a run that read first would fail on this
    out = tmp_path / "out.parquet"
    result = run_meshc("run", "-c", str(contract), "-s", str(missing_source), "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "secrets.token_hex(32)" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_the_key_never_reaches_the_report_or_the_run_record(
    pii_contract: tuple[Path, Path], tmp_path: Path
) -> None:
    contract, data = pii_contract
    result = DataProcessor(contract, root=tmp_path).run_source(
        data, output=tmp_path / "v.parquet", quarantine=tmp_path / "q.parquet"
    )
    written = json.dumps(result.report) + json.dumps(result.lineage)
    written += "".join(p.read_text() for p in tmp_path.rglob("*.json"))
    assert TEST_MASKING_KEY not in written


def test_mesh_without_a_key_fails_before_running_any_product(
    pii_contract: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshc.engines.masking_key import MaskingKeyError
    from meshc.loader import load_contract
    from meshc.mesh.run import run_mesh

    contract, _data = pii_contract
    monkeypatch.delenv("MESHC_MASKING_KEY")
    with pytest.raises(MaskingKeyError, match="MESHC_MASKING_KEY_FILE"):
        run_mesh([load_contract(contract)], root=tmp_path / "lake")
    assert not (tmp_path / "lake").exists()


@pytest.mark.parametrize(
    "key",
    [
        "clé-secrète-über-0123456789".encode(),  # UTF-8 beyond ASCII
        b"k" * 100,  # longer than SHA-256's block: hashed first (RFC 2104)
        bytes(range(256))[::7] + b"\xff\xfe-not-utf8",  # only a key file can hold these bytes
    ],
    ids=["non_ascii", "longer_than_a_block", "not_utf8"],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_hash_matches_the_reference_hmac_for_any_key_and_value(
    engine: str, key: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "masking.key"
    secret.write_bytes(key)
    monkeypatch.delenv("MESHC_MASKING_KEY")
    monkeypatch.setenv("MESHC_MASKING_KEY_FILE", str(secret))
    contract = tmp_path / "people.yaml"
    contract.write_text(
        "info: {version: 1, name: people, domain: hr}\n"
        "model:\n  fields:\n"
        "    - {name: id, type: string}\n"
        "    - {name: email, type: string, pii: true, masking: hash}\n"
    )
    emails = ["zoë@exämple.com", "", "ann@x.com", "ann@x.com", 'a,"b"']
    data = tmp_path / "people.csv"
    data.write_text(
        "id,email\n"
        + "".join(f'{i},"{e.replace(chr(34), 2 * chr(34))}"\n' for i, e in enumerate(emails)),
        encoding="utf-8",
    )
    result = DataProcessor(contract, engine=engine).run_source(data, write=False)
    rows = sorted(result.valid_arrow().to_pylist(), key=lambda r: int(r["id"]))
    expected = [
        hmac.new(key, e.encode(), hashlib.sha256).hexdigest() if e else None for e in emails
    ]
    assert [r["email"] for r in rows] == expected
