"""`meshc check` reports every problem in one run, whatever phase finds it (issue #12, item 20).

Fixing one problem must never reveal another that one run could already have reported: schema
errors do not hide field or rule problems, a bad field does not hide the rules' problems, and
every rule is checked."""

from __future__ import annotations

import textwrap
from pathlib import Path

from meshc.checking import run_check

DEEP = "(" * 30 + "x > 0" + ")" * 30

SEVERAL_PHASES = f"""\
info: {{version: 1, name: t, domain: d, ownr: a@b.c}}
model:
  fields:
    - {{name: x, type: integer, min: 10, max: 1}}
    - {{name: s, type: string, pattern: "(unclosed"}}
    - {{name: bad, type: flaot}}
quality:
  row_rules:
    - {{name: r1, sql: "(x > 0"}}
    - {{name: r2, sql: "s + 1 > 0"}}
    - {{name: r3, sql: "bad + 1 > 0"}}
    - {{name: r4, sql: "{DEEP}"}}
    - {{name: r5, sql: "LOWER(x) = 'a'"}}
  dataset_rules:
    - {{type: sql, sql: "x > 0"}}
"""


def _found(tmp_path: Path, text: str) -> set[tuple[str, int]]:
    path = tmp_path / "c.yaml"
    path.write_text(textwrap.dedent(text))
    return {(d.code, d.line) for d in run_check([str(path)]).diagnostics}


def test_schema_error_hides_no_field_or_rule_problem(tmp_path: Path) -> None:
    assert _found(tmp_path, SEVERAL_PHASES) == {
        ("MC101", 1),  # schema: unknown key
        ("MC204", 4),  # field: min > max
        ("MC203", 5),  # field: invalid pattern
        ("MC201", 6),  # model: unknown type
        ("MC301", 9),  # rule: syntax
        ("MC306", 10),  # rule: type error over declared columns
        # line 11 reads the column of unknown type: no guess at its type is reported
        ("MC312", 12),  # rule: nested too deeply
        ("MC306", 13),  # rule: every rule is checked, not only the first failing one
        ("MC309", 15),  # dataset rule: must aggregate
    }


def test_bad_field_hides_no_rule_problem(tmp_path: Path) -> None:
    schema_valid = SEVERAL_PHASES.replace(", ownr: a@b.c", "").replace(
        "    - {name: bad, type: flaot}\n", ""
    )
    schema_valid = schema_valid.replace('    - {name: r3, sql: "bad + 1 > 0"}\n', "")
    assert _found(tmp_path, schema_valid) == {
        ("MC204", 4),
        ("MC203", 5),
        ("MC301", 8),
        ("MC306", 9),
        ("MC312", 10),
        ("MC306", 11),
        ("MC309", 13),
    }
