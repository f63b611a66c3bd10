"""The wide workload of benchmarks/bench_engines.py: 30 columns, 30 row rules, three masked fields.

One table describes it; the contract (YAML), the data generator and the hand-written scripts all
read this table, so they cannot drift apart. Plain Python, no meshc and no engine imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

INTS = [f"i{n:02d}" for n in range(1, 11)]
FLOATS = [f"f{n:02d}" for n in range(1, 9)]
DATES = ["d01", "d02", "d03"]
S01_VALUES = ["alpha", "beta", "gamma", "delta"]
S02_VALUES = ["north", "south", "east", "west", "central"]
S05_VALUES = ["new", "open", "closed"]
MIN_DATE = "2020-01-01"


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # string | integer | float | date
    masking: str | None = None  # hash | partial | redact


@dataclass(frozen=True)
class Rule:
    """One single-column row rule: `kind` and `args` say what a hand-written script checks,
    `sql` is the same check as the contract states it."""

    name: str
    column: str
    kind: str  # between | ge | in | regex | max_len | len_between | date_ge
    args: tuple[object, ...]

    @property
    def sql(self) -> str:
        c, a = self.column, self.args
        if self.kind == "between":
            return f"{c} BETWEEN {a[0]} AND {a[1]}"
        if self.kind == "ge":
            return f"{c} >= {a[0]}"
        if self.kind == "date_ge":
            return f"{c} >= DATE '{a[0]}'"
        if self.kind == "in":
            return f"{c} IN ({', '.join(repr(v) for v in a)})"
        if self.kind == "regex":
            return f"REGEXP_LIKE({c}, '{a[0]}')"
        if self.kind == "max_len":
            return f"LENGTH({c}) <= {a[0]}"
        return f"LENGTH({c}) BETWEEN {a[0]} AND {a[1]}"  # len_between


FIELDS = [
    Field("id", "string"),
    *(Field(c, "integer") for c in INTS),
    *(Field(c, "float") for c in FLOATS),
    *(Field(c, "date") for c in DATES),
    *(Field(c, "string") for c in ["s01", "s02", "s03", "s04", "s05"]),
    Field("email", "string", "hash"),
    Field("phone", "string", "partial"),
    Field("full_name", "string", "redact"),
]
RULES = [
    Rule("id_pattern", "id", "regex", ("^W-[0-9]+$",)),
    *(Rule(f"{c}_range", c, "between", (0, 1000)) for c in INTS),
    *(Rule(f"{c}_non_negative", c, "ge", (0,)) for c in FLOATS),
    *(Rule(f"{c}_recent", c, "date_ge", (MIN_DATE,)) for c in DATES),
    Rule("s01_known", "s01", "in", tuple(S01_VALUES)),
    Rule("s02_known", "s02", "in", tuple(S02_VALUES)),
    Rule("s03_short", "s03", "max_len", (12,)),
    Rule("s04_code", "s04", "regex", ("^[A-Z]{3}$",)),
    Rule("s05_known", "s05", "in", tuple(S05_VALUES)),
    Rule("email_form", "email", "regex", ("^[a-z0-9.]+@example[.]com$",)),
    Rule("phone_digits", "phone", "regex", ("^[0-9]{10}$",)),
    Rule("name_length", "full_name", "len_between", (2, 40)),
]
assert len(FIELDS) == 30 and len(RULES) == 30
COLUMNS = [f.name for f in FIELDS]
MASKS = {f.name: f.masking for f in FIELDS if f.masking}


def contract_yaml() -> str:
    fields = "\n".join(
        f"    - {{name: {f.name}, type: {f.type}"
        + (f", pii: true, masking: {f.masking}}}" if f.masking else "}")
        for f in FIELDS
    )
    rules = "\n".join(f'    - {{name: {r.name}, sql: "{r.sql}"}}' for r in RULES)
    return (
        "info: {version: 1, name: bench_wide, domain: bench, system: bench,"
        " owner: bench@example.com}\n"
        f"model:\n  fields:\n{fields}\n"
        f"quality:\n  row_rules:\n{rules}\n"
        "quarantine: {enabled: true, include_error_reason: true}\n"
        "lineage: {enabled: false}\n"
    )
