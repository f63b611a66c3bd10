"""Wiring: dataset -> sample -> types -> statistics -> suggestions -> contract -> measured summary.

Each stage lives in its own module and returns a value; this module only orders them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from meshc.bootstrap import pii as pii_mod
from meshc.bootstrap import profile, suggest, types, writer
from meshc.bootstrap.suggest import Suggestion
from meshc.runner.progress import Progress

if TYPE_CHECKING:
    from meshc.contract import Contract

DEFAULT_SAMPLE_ROWS = 200_000
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class InferredContract:
    """A bootstrapped contract: the YAML document, the suggestions behind it and, once measured,
    how many landing rows each rule quarantines."""

    document: Any  # ruamel CommentedMap, in contract key order
    suggestions: list[Suggestion]
    rows_profiled: int
    dataset: profile.Dataset | None = None
    sample: profile.Sample | None = None
    rows_in: int | None = None  # landing rows seen by the measuring run
    quarantined: dict[str, int] = field(default_factory=dict)  # rule id -> rows
    rows_quarantined: int | None = None

    @property
    def ref(self) -> str:
        info = self.document["info"]
        return f"{info['domain']}.{info['name']}"

    def to_yaml(self, directory: Path | None = None) -> str:
        """The contract as YAML; the `$schema` line is relative to `directory` when possible."""
        schema = writer.schema_reference(directory, writer.CONTRACT_SCHEMA)
        sample = self.sample or profile.Sample(self.rows_profiled, self.rows_profiled, 0)
        header = [
            f"Bootstrapped by meshc from {sample.describe()}; review the suggested rules",
            "(each description states its evidence and the profiled rows it would quarantine).",
        ]
        return writer.dump(self.document, schema, header) + self._suspects_yaml()

    def _suspects_yaml(self) -> str:
        """Suspect rules, commented out: they would quarantine clean rows, so a person decides."""
        suspects = [s for s in self.suggestions if s.placement == "suspect"]
        if not suspects:
            return ""
        lines = [
            "",
            "# Suspect rules, not enforced: each would quarantine clean profiled rows (see its",
            "# evidence). Move one into quality.row_rules to enforce it.",
        ]
        for s in suspects:
            lines += [
                f"# - name: {s.payload['name']}",
                f"#   sql: {s.payload['sql']}",
                f"#   description: {s.payload['description']}",
            ]
        return "\n".join(lines) + "\n"

    def save(self, path: str | Path) -> Path:
        target = Path(path)
        writer.ship_schema(target.parent, writer.CONTRACT_SCHEMA)
        return writer.write_text(target, self.to_yaml(target.parent))

    def contract(self) -> Contract:
        """The meshc Contract this YAML loads as (validated and compiled)."""
        from meshc.loader import loads_contract

        return loads_contract(self.to_yaml(), path=f"<bootstrap {self.ref}>")

    def summary(self) -> list[dict[str, Any]]:
        """One row per suggestion: column, kind, rule, applied, would-quarantine, evidence."""
        rows = []
        for s in self.suggestions:
            rows.append(
                {
                    "contract": self.ref,
                    "column": s.column,
                    "kind": s.kind,
                    "rule": s.rule,
                    "rule_id": s.rule_id,
                    "applied": s.placement not in ("note", "suspect"),
                    "suspect": s.placement == "suspect",
                    "sample_share": s.sample_share,
                    "quarantines": self.quarantined.get(s.rule_id) if s.rule_id else None,
                    "evidence": s.evidence,
                    "suspects": [[str(v), n] for v, n in s.suspects],
                }
            )
        return rows


def infer_contract(
    path_or_frame: str | Path | Any,
    suggest_rules: bool = True,
    *,
    name: str | None = None,
    domain: str = "landing",
    system: str | None = None,
    format: str | None = None,
    sample_rows: int | None = DEFAULT_SAMPLE_ROWS,
    measure: bool = True,
    progress: Progress | None = None,
    seed: int = 0,
    max_clean_share: float = suggest.MAX_CLEAN_SHARE,
) -> InferredContract:
    """Infer a contract from a landing file or folder (one dataset), or from an in-memory frame
    (Polars, pandas or pyarrow). With `measure`, the contract is run (Polars, nothing written) on
    all the data to count the rows each rule would quarantine. The profiled rows are a uniform
    random sample of `sample_rows` (seeded by `seed`); a rule that would quarantine more than
    `max_clean_share` of clean profiled rows is written commented out, as a suspect."""
    say = progress or (lambda _msg: None)
    dataset: profile.Dataset | None = None
    if isinstance(path_or_frame, (str, Path)):
        found = _path_dataset(Path(path_or_frame), format)
        say(f"sampling {found.name}: {len(found.paths)} {found.format} file(s)")
        dataset, frame, sample = profile.read_sample(found, sample_rows, seed)
        text = dataset.is_text
    else:
        frame, text = _as_polars(path_or_frame), True
        frame = frame.with_columns(pl.col(pl.String).replace("", None))
        total = frame.height
        picks = profile.sample_indices(total, sample_rows, seed)
        if picks is not None:
            frame = frame[picks]
        sample = profile.Sample(frame.height, total, seed)
    label = name or (dataset.name if dataset else "dataset")
    say(f"profiling {label}: {frame.height:,} rows, {frame.width} columns")
    result = build(
        frame,
        text,
        profile.identifier(label),
        domain,
        system,
        dataset,
        suggest_rules,
        max_clean_share,
    )
    result.sample = sample
    if measure:
        say(f"measuring {label}: running the contract on all landing rows")
        _measure(result, None if dataset else path_or_frame)
    return result


def _path_dataset(path: Path, fmt: str | None) -> profile.Dataset:
    """A file is one dataset; so is a folder, with all its files."""
    if path.is_file():
        return profile.discover(path, fmt)[0]
    return _folder_dataset(path, fmt)


def _folder_dataset(folder: Path, fmt: str | None) -> profile.Dataset:
    if not folder.exists():
        from meshc.errors import SourceError

        raise SourceError(f"landing data not found: {folder}")
    from meshc.runner.sources import hidden_below

    files = sorted(f for f in folder.rglob("*") if f.is_file() and not hidden_below(folder, f))
    files = [f for f in files if fmt or profile.SUFFIX_FORMATS.get(f.suffix.lower())]
    if not files:
        from meshc.errors import SourceError

        raise SourceError(f"no csv, parquet, json or ndjson files in {folder}")
    return profile.dataset_for(folder, files, fmt)


def _as_polars(frame: Any) -> pl.DataFrame:
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if isinstance(frame, pl.DataFrame):
        return frame
    return pl.from_pandas(frame) if hasattr(frame, "iloc") else pl.DataFrame(pl.from_arrow(frame))


def build(
    frame: pl.DataFrame,
    text: bool,
    name: str,
    domain: str,
    system: str | None,
    dataset: profile.Dataset | None,
    suggest_rules: bool,
    max_clean_share: float = suggest.MAX_CLEAN_SHARE,
) -> InferredContract:
    """Types, statistics and suggestions for one sampled frame, as a contract document."""
    notes: list[Suggestion] = []
    usable = [c for c in frame.columns if _usable(frame, c, notes)]
    text_columns = [c for c in usable if frame.schema[c] == pl.String and text]
    forms = profile.text_forms(frame, text_columns)
    inferred = {
        c: types.infer_text(c, forms[c]) if c in forms else types.infer_stored(frame.schema[c])
        for c in usable
    }
    inferred = {c: _utc_event_time(c, t) for c, t in inferred.items()}
    typed = profile.typed_frame(frame, {c: t.logical for c, t in inferred.items()})
    stats = profile.column_stats(typed)
    suggestions = list(notes)
    for c in usable:
        flag = pii_mod.detect(stats[c])
        suggestions += suggest.facts(stats[c], flag, inferred[c].note)
        if suggest_rules:
            suggestions += suggest.suggest(stats[c], typed, max_clean_share)
    document = _document(name, domain, system, dataset, inferred, suggestions, frame.height)
    return InferredContract(document, suggestions, frame.height, dataset)


def _usable(frame: pl.DataFrame, c: str, notes: list[Suggestion]) -> bool:
    """Columns a contract can declare: identifier names and flat types."""
    if not _FIELD_NAME.match(c):
        notes.append(
            Suggestion(
                c,
                "skipped",
                "-",
                "the name is not an identifier meshc can "
                "declare; the column is dropped (model.extra_columns: drop)",
                "note",
            )
        )
        return False
    if frame.schema[c].is_nested():
        notes.append(
            Suggestion(
                c,
                "skipped",
                "-",
                f"nested type {frame.schema[c]} is not a meshc type; the column is dropped",
                "note",
            )
        )
        return False
    return True


def _utc_event_time(c: str, inferred: types.InferredType) -> types.InferredType:
    """Event times (`*_at`) are UTC instants (the mesh's timestamps_utc policy); a timestamp
    without an offset reads the same either way."""
    if inferred.type_text == "timestamp" and c.lower().endswith("_at"):
        return types.InferredType("timestamptz", inferred.note)
    return inferred


def _document(
    name: str,
    domain: str,
    system: str | None,
    dataset: profile.Dataset | None,
    inferred: dict[str, types.InferredType],
    suggestions: list[Suggestion],
    rows: int,
) -> Any:
    info: dict[str, Any] = {"version": 1, "name": name, "domain": domain}
    if system:
        info["system"] = system
    info["layer"] = "bronze"
    info["description"] = (
        f"Bootstrapped by meshc on {dt.date.today().isoformat()} from "
        f"{rows:,} profiled rows" + (f" of {dataset.location.name}" if dataset else "")
    )
    doc: dict[str, Any] = {"info": info}
    if dataset is not None:
        doc["source"] = _source(dataset)
        doc["output"] = {"target": f"bronze/{domain}/{name}", "format": "parquet"}
    fields = []
    for c, t in inferred.items():
        entry: dict[str, Any] = {"name": c, "type": t.type_text}
        for s in suggestions:
            if s.column == c and s.placement == "field":
                entry.update(s.payload)
        fields.append(entry)
    doc["model"] = {"fields": fields}
    quality: dict[str, Any] = {}
    row_rules = [s.payload for s in suggestions if s.placement == "row_rule"]
    dataset_rules = [s.payload for s in suggestions if s.placement == "dataset_rule"]
    if row_rules:
        quality["row_rules"] = row_rules
    if dataset_rules:
        quality["dataset_rules"] = dataset_rules
    if quality:
        doc["quality"] = quality
    doc["quarantine"] = {
        "enabled": True,
        "target": f"quarantine/{domain}/{name}",
        "include_error_reason": True,
    }
    doc["lineage"] = {"enabled": True}
    document = writer.to_commented(doc)
    for rule in document.get("quality", {}).get("dataset_rules", []):
        rule["columns"] = writer.flow(rule["columns"])
    return document


def _source(dataset: profile.Dataset) -> dict[str, Any]:
    source: dict[str, Any] = {
        "path": writer.source_path(dataset.location),
        "format": dataset.format,
    }
    options: dict[str, Any] = {}
    if dataset.format == "csv":
        options = {"delimiter": dataset.delimiter, "header": True}
    if dataset.is_text and dataset.null_values != ("",):
        options["null_values"] = list(dataset.null_values)
    if options:
        source["options"] = options
    return source


def _measure(result: InferredContract, frame: Any | None) -> None:
    """Run the contract on Polars over all the landing rows (nothing written) and record the rows
    each rule quarantines: the numbers in the summary are what `meshc run` will do."""
    from meshc.runner.processor import DataProcessor

    processor = DataProcessor(result.contract(), engine="polars")
    if frame is None:
        run = processor.run_source(write=False)
    else:
        run = processor.run(_as_polars(frame).lazy())
    result.rows_in = run.rows_in
    result.rows_quarantined = run.rows_quarantined
    result.quarantined = dict(run.failures)
