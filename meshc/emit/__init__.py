"""`meshc compile`: a contract's checks as artifacts other tools run (docs/compile.md).

    artifacts = emit_contract(compiled, contract_bytes)   # -> ContractArtifacts
    artifacts.folder        # "<domain>/<name>"
    artifacts.files         # Artifact(name, text), deterministic text
    artifacts.gaps          # Gap(target, rule_id, reason): what a target cannot express
    artifacts.targets       # every target, e.g. "pandera_polars", "gx_sql", "sql_duckdb"

One module per target: pandera_emit (pandas, Polars, PySpark schemas, whose checks are written as
engine code by polars_source / pandas_source), gx_emit (pandas, Spark, SQL suites), sql_emit
(DuckDB and Spark validation queries), manifest. Nothing here imports pandera or Great
Expectations, and what is emitted imports nothing of meshc.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshc.emit.model import Artifact, Gap
from meshc.rules import checks as ck


@dataclass(frozen=True)
class ContractArtifacts:
    folder: str
    files: tuple[Artifact, ...]
    gaps: tuple[Gap, ...]
    targets: tuple[str, ...] = ()  # every target, so that one without gaps is counted too


def emit_contract(
    compiled: ck.CompiledContract, contract_text: bytes, contract_ref: str | None = None
) -> ContractArtifacts:
    """Every artifact for one compiled contract, in a fixed order."""
    from meshc.emit import gx_emit, pandera_emit, sql_emit
    from meshc.emit.manifest import MANIFEST, render_manifest

    info = compiled.contract.info
    files: list[Artifact] = []
    gaps: list[Gap] = []
    for flavour in pandera_emit.FLAVOURS:
        text, found = pandera_emit.emit_schema(compiled, flavour)
        files.append(Artifact(f"pandera_{flavour}.py", text))
        gaps.extend(found)
    for kind in gx_emit.KINDS:
        text, found = gx_emit.emit_suite(compiled, kind)
        files.append(Artifact(f"gx_{kind}.json", text))
        gaps.extend(found)
    for dialect in sql_emit.DIALECTS:
        text, found = sql_emit.emit_sql(compiled, dialect)
        files.append(Artifact(f"validation_{dialect}.sql", text))
        gaps.extend(found)
        gaps.extend(_outside_the_query(compiled, f"sql_{dialect}"))
    ref = contract_ref or f"{info.domain}.{info.name}"
    files.append(Artifact(MANIFEST, render_manifest(ref, contract_text, files, gaps)))
    targets = tuple(a.name.rsplit(".", 1)[0].replace("validation_", "sql_") for a in files[:-1])
    return ContractArtifacts(f"{info.domain}/{info.name}", tuple(files), tuple(gaps), targets)


def _outside_the_query(compiled: ck.CompiledContract, target: str) -> list[Gap]:
    """The rules a validation query (row checks only) leaves to `meshc run`, so the manifest
    lists every rule each artifact does not hold."""
    gaps = [
        Gap(target, c.id, "foreign keys need the target contract's data; `meshc run` checks them")
        for c in compiled.row_checks
        if isinstance(c, ck.ForeignKey)
    ]
    reason = "the validation query selects violating rows; dataset rules are checked by `meshc run`"
    return gaps + [Gap(target, d.id, reason) for d in compiled.dataset_checks]


__all__ = ["Artifact", "ContractArtifacts", "Gap", "emit_contract"]
