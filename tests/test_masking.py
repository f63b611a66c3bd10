"""PII masking is identical on every engine and never leaks through the quarantine."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from meshc import DataProcessor

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
    assert valid[0]["email"] == hashlib.sha256(b"ann@x.com").hexdigest()
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
