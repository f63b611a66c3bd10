"""`meshc compile`: a contract's checks as artifacts other tools run (docs/compile.md).

    artifacts = emit_contract(compiled, contract_bytes)   # -> ContractArtifacts
    artifacts.folder        # "<domain>/<name>"
    artifacts.files         # Artifact(name, text), deterministic text
    artifacts.gaps          # Gap(target, rule_id, reason): what a target cannot express

One module per target: pandera_emit (pandas, Polars, PySpark schemas), gx_emit (pandas, Spark,
SQL suites), sql_emit (DuckDB and Spark validation queries), manifest. Nothing here imports
pandera or Great Expectations; `runtime` is the module generated Pandera code imports.
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
        files.append(
            Artifact(f"validation_{dialect}.sql", sql_emit.render_validation_sql(compiled, dialect))
        )
    ref = contract_ref or f"{info.domain}.{info.name}"
    files.append(Artifact(MANIFEST, render_manifest(ref, contract_text, files, gaps)))
    return ContractArtifacts(f"{info.domain}/{info.name}", tuple(files), tuple(gaps))


__all__ = ["Artifact", "ContractArtifacts", "Gap", "emit_contract"]
