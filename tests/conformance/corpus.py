"""The conformance corpus: load the case folders and run one case on one engine.

A case is a folder under `cases/` holding
  - `contract.yaml`: a full meshc contract whose first field is the string row key `id`;
  - `input.csv`: a header row, then the rows (an empty cell is NULL unless the contract says
    otherwise in `source.options.null_values`); another file when expected.yaml names it;
  - `expected.yaml`: what docs/semantics.md says must happen:
      description: what the case pins down
      valid: [ids of rows in the valid output]
      quarantined: {id: [sorted rule ids the row broke, warn checks and `<col>.type` included]}
      failures: {rule id: rows failing it}      # optional subset of Split.failures (0 = absent)
      raw: {id: {column: text}}                 # optional: quarantine keeps the source text
      xfail: {engine: reason}                   # optional: a known engine gap (strict xfail)
      now: "2024-06-15T12:00:00+00:00"          # optional: run clock for CURRENT_DATE
      input: input.ndjson                       # optional: the source file (default input.csv)
      error: {type: SourceError, message: text} # optional: the run must fail with this error
                                                # (a fragment of its message); no valid or
                                                # quarantined rows are listed then

Expectations come from the spec, never from an engine's output. Everything an engine returns is
read back through `extract_outcome`, the one place that knows the output layout, so the corpus can
later be switched from `Engine.validate` to the full runner without touching the tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

CASES_DIR = Path(__file__).resolve().parent / "cases"
ENGINES = ("polars", "pandas", "duckdb", "spark")
ID_COLUMN = "id"
# The clock for cases that do not set `now`: fixed, so no case depends on the day it runs.
DEFAULT_NOW = dt.datetime(2024, 6, 15, 12, 0, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    description: str
    valid: frozenset[str]
    quarantined: Mapping[str, tuple[str, ...]]  # id -> sorted rule ids
    failures: Mapping[str, int] = field(default_factory=dict)
    raw: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    xfail: Mapping[str, str] = field(default_factory=dict)
    now: dt.datetime = DEFAULT_NOW
    input: str = "input.csv"
    error: tuple[str, str] | None = None  # (exception class name, message fragment)

    @property
    def contract_path(self) -> Path:
        return self.folder / "contract.yaml"

    @property
    def input_path(self) -> Path:
        return self.folder / self.input


@dataclass(frozen=True)
class Outcome:
    """What an engine did with a case's rows, in engine-neutral Python values."""

    valid: frozenset[str]
    quarantined: Mapping[str, tuple[str, ...]]  # id -> sorted rule ids
    failures: Mapping[str, int]
    # id -> the quarantine row's source columns as read (text), for the raw-value checks
    quarantine_rows: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # (id, rule_id) -> `_meshc_reasons.value`
    reason_values: Mapping[tuple[str, str], Any] = field(default_factory=dict)
    # id -> rule ids in the order the engine recorded them (the spec fixes an order)
    reason_order: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # the spec's order of rule ids (cast failures in column order, then checks in plan order)
    spec_order: tuple[str, ...] = ()
    # for a case that expects a run error: "<exception class>: <message>" (None: it ran)
    error: str | None = None


# -- loading ----------------------------------------------------------------------------------
def load_cases(root: Path = CASES_DIR) -> list[Case]:
    """Every case folder under `root`, sorted by name."""
    return [load_case(p) for p in sorted(root.iterdir()) if (p / "expected.yaml").is_file()]


def load_case(folder: Path) -> Case:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load((folder / "expected.yaml").read_text(encoding="utf-8")) or {}
    keys = {"description", "valid", "quarantined", "failures", "raw", "xfail", "now", "input"}
    unknown = set(data) - keys - {"error"}
    if unknown:
        raise ValueError(f"{folder.name}/expected.yaml: unknown keys {sorted(unknown)}")
    quarantined = {
        str(k): tuple(sorted(map(str, v or ()))) for k, v in (data.get("quarantined") or {}).items()
    }
    valid = frozenset(map(str, data.get("valid") or ()))
    if valid & set(quarantined):
        raise ValueError(
            f"{folder.name}: rows both valid and quarantined: {sorted(valid & set(quarantined))}"
        )
    xfail = {str(k): str(v) for k, v in (data.get("xfail") or {}).items()}
    if set(xfail) - set(ENGINES):
        raise ValueError(
            f"{folder.name}: xfail names unknown engines {sorted(set(xfail) - set(ENGINES))}"
        )
    return Case(
        name=folder.name,
        folder=folder,
        description=str(data.get("description", "")),
        valid=valid,
        quarantined=quarantined,
        failures={str(k): int(v) for k, v in (data.get("failures") or {}).items()},
        raw={
            str(k): {str(c): (None if t is None else str(t)) for c, t in cols.items()}
            for k, cols in (data.get("raw") or {}).items()
        },
        xfail=xfail,
        now=_parse_now(data.get("now")),
        input=str(data.get("input", "input.csv")),
        error=_parse_error(folder.name, data.get("error"), valid, quarantined),
    )


def _parse_error(
    name: str, value: Any, valid: frozenset[str], quarantined: Mapping[str, Any]
) -> tuple[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"type", "message"}:
        raise ValueError(f"{name}: `error` needs exactly `type` and `message`")
    if valid or quarantined:
        raise ValueError(f"{name}: a case that expects an error lists no rows")
    return str(value["type"]), str(value["message"])


def _parse_now(value: Any) -> dt.datetime:
    if value is None:
        return DEFAULT_NOW
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"`now` must carry an offset: {value!r}")
    return parsed.astimezone(dt.timezone.utc)  # build_plan takes the date of `now` as given


# -- running ----------------------------------------------------------------------------------
@cache
def engine_for(name: str) -> Any:
    """One engine instance per name for the whole session (Spark shares its session this way)."""
    from meshc.engines.registry import get_engine

    return get_engine(name)


def run_case(case: Case, engine_name: str) -> tuple[set[str], dict[str, list[str]], dict[str, int]]:
    """(valid ids, id -> sorted rule ids, Split.failures) for one case on one engine."""
    outcome = run_case_outcome(case, engine_name)
    return (
        set(outcome.valid),
        {k: list(v) for k, v in outcome.quarantined.items()},
        dict(outcome.failures),
    )


def run_case_outcome(case: Case, engine_name: str, validator: str | None = None) -> Outcome:
    """One case through the full runner (DataProcessor: compile, plan, read, validate, integrity
    check, dataset rules, report), writing nothing; with `validator`, the compiled Pandera schema
    or GX suite judges the rows (`meshc run --validator`)."""
    return run_case_result(case, engine_name, validator)[0]


def run_case_result(
    case: Case, engine_name: str, validator: str | None = None
) -> tuple[Outcome, dict[str, Any]]:
    """The outcome and the run report."""
    from meshc import DataProcessor
    from meshc.errors import MeshcError
    from meshc.runner.plan import build_plan

    engine = engine_for(engine_name)
    processor = DataProcessor(case.contract_path, engine, now=case.now, validator=validator)
    try:
        result = processor.run_source(case.input_path, write=False)
    except MeshcError as exc:
        if case.error is None:
            raise
        return Outcome(frozenset(), {}, {}, error=f"{type(exc).__name__}: {exc}"), {}
    assert result.rows_in == result.rows_valid + result.rows_quarantined
    plan = build_plan(processor.compiled, now=case.now)
    outcome = replace(extract_outcome(engine, result), spec_order=spec_order(plan))
    return outcome, result.report


def spec_order(plan: Any) -> tuple[str, ...]:
    """docs/semantics.md: cast failures in column order, then checks in contract order."""
    from meshc.engines.base import cast_rule_id

    return tuple(cast_rule_id(c.name) for c in plan.columns) + tuple(c.id for c in plan.checks)


def validate_csv(engine_name: str, plan: Any, csv_path: Path) -> Outcome:
    """Read one CSV with every plan column as text, validate it, and extract the outcome."""
    engine = engine_for(engine_name)
    text_columns = [c.name for c in plan.columns]
    frame = engine.read([str(csv_path)], "csv", text_columns=text_columns)
    split = engine.validate(frame, plan)
    return replace(extract_outcome(engine, split), spec_order=spec_order(plan))


def extract_outcome(engine: Any, split: Any, id_column: str = ID_COLUMN) -> Outcome:
    """The one function that reads an engine's Split back into Python values."""
    from meshc.engines.base import REASONS

    valid_rows = engine.to_arrow(split.valid).to_pylist()
    valid_ids = [row[id_column] for row in valid_rows]
    quarantined: dict[str, tuple[str, ...]] = {}
    order: dict[str, tuple[str, ...]] = {}
    rows: dict[str, Mapping[str, Any]] = {}
    values: dict[tuple[str, str], Any] = {}
    for row in engine.to_arrow(split.quarantine).to_pylist():
        key = row[id_column]
        reasons = row.get(REASONS) or []
        if isinstance(reasons, str):  # tolerate a JSON-encoded column
            import json

            reasons = json.loads(reasons)
        ids = tuple(str(r["rule_id"]) for r in reasons)
        if key in quarantined:
            raise AssertionError(f"row {key!r} appears twice in the quarantine")
        quarantined[key] = tuple(sorted(ids))
        order[key] = ids
        rows[key] = {k: v for k, v in row.items() if k != REASONS}
        for r in reasons:
            values[(key, str(r["rule_id"]))] = r.get("value")
    if len(set(valid_ids)) != len(valid_ids):
        raise AssertionError("a row appears twice in the valid output")
    return Outcome(frozenset(valid_ids), quarantined, dict(split.failures), rows, values, order)


# -- comparing --------------------------------------------------------------------------------
def mismatches(case: Case, outcome: Outcome) -> list[str]:
    """Human-readable differences between what the case expects and what the engine did."""
    problems: list[str] = []
    if case.error is not None:
        kind, fragment = case.error
        if outcome.error is None:
            problems.append(f"expected {kind} ({fragment!r}), but the run succeeded")
        elif not outcome.error.startswith(f"{kind}: ") or fragment not in outcome.error:
            problems.append(f"expected {kind} ({fragment!r}), got {outcome.error}")
    if outcome.valid != case.valid:
        missing, extra = sorted(case.valid - outcome.valid), sorted(outcome.valid - case.valid)
        problems.append(f"valid: missing {missing}, unexpected {extra}")
    for key in sorted(set(case.quarantined) | set(outcome.quarantined), key=_natural):
        want, got = case.quarantined.get(key), outcome.quarantined.get(key)
        if want != got:
            problems.append(f"quarantined[{key}]: expected {_show(want)}, got {_show(got)}")
    rank = {rule_id: n for n, rule_id in enumerate(outcome.spec_order)}
    for key, recorded in sorted(outcome.reason_order.items()):
        if rank and list(recorded) != sorted(recorded, key=lambda r: rank.get(r, len(rank))):
            problems.append(f"reasons of {key} out of the spec's order: {list(recorded)}")
    for rule_id, count in sorted(case.failures.items()):
        got_count = outcome.failures.get(rule_id, 0)
        if got_count != count:
            problems.append(f"failures[{rule_id}]: expected {count}, got {got_count}")
    for key, columns in sorted(case.raw.items()):
        row = outcome.quarantine_rows.get(key)
        for column, text in columns.items():
            if row is None:
                problems.append(f"raw[{key}].{column}: row not in quarantine")
                continue
            if row.get(column) != text:
                problems.append(f"raw[{key}].{column}: expected {text!r}, got {row.get(column)!r}")
            cast_id = f"{column}.type"
            if (key, cast_id) in outcome.reason_values and outcome.reason_values[
                (key, cast_id)
            ] != text:
                problems.append(
                    f"reason value of {key}/{cast_id}: expected {text!r}, "
                    f"got {outcome.reason_values[(key, cast_id)]!r}"
                )
    return problems


def input_ids(case: Case) -> list[str]:
    """The row ids of a case's input as a careful reader sees them (empty CSV lines are no rows,
    NDJSON has one object per line), for the corpus' own well-formedness test."""
    import csv
    import json

    if case.input_path.suffix in (".ndjson", ".jsonl"):
        lines = case.input_path.read_text(encoding="utf-8").splitlines()
        return [str(json.loads(line)[ID_COLUMN]) for line in lines if line.strip()]
    with case.input_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if header[0] != ID_COLUMN:
            raise ValueError(f"{case.name}: the first column is not {ID_COLUMN!r}")
        return [row[0] for row in reader if row]


def _show(rules: Sequence[str] | None) -> str:
    return "not quarantined" if rules is None else "[" + ", ".join(rules) + "]"


def _natural(key: str) -> tuple[str, int]:
    digits = "".join(c for c in key if c.isdigit())
    return ("".join(c for c in key if not c.isdigit()), int(digits) if digits else -1)
