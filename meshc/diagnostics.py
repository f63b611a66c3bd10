"""Compiler-style diagnostics: `path:line:col: CODE message (hint)`.

Codes are stable and grouped by phase:
  MC0xx  input (file missing, YAML syntax, no contracts found)
  MC1xx  JSON Schema (unknown key, wrong type, missing key, bad value)
  MC2xx  model (duplicate field, unknown type, inconsistent constraints)
  MC3xx  rules (SQL syntax, unknown column, type mismatch, not whitelisted)
  MC4xx  governance policies
  MC5xx  evolution (breaking changes)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One finding, located in a file (line and col 1-based, 0 when unknown)."""

    code: str
    message: str
    path: str = "<memory>"
    line: int = 0  # 1-based; 0 when unknown
    col: int = 0  # 1-based; 0 when unknown
    hint: str | None = None
    severity: Severity = Severity.ERROR
    source_line: str | None = None

    def location(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{max(self.col, 1)}"
        return self.path

    def render(self) -> str:
        text = f"{self.location()}: {self.code} {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt name, or None when nothing is close."""
    import difflib  # imported when needed: `meshc check` on a clean contract never is

    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f"did you mean '{lowered[word.lower()]}'?"
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.path, d.line, d.col, d.code)


def to_json(diagnostics: Sequence[Diagnostic], files: int) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    payload = {
        "schema_version": 1,
        "files_checked": files,
        "errors": errors,
        "warnings": len(diagnostics) - errors,
        "diagnostics": [d.to_dict() for d in sorted(diagnostics, key=sort_key)],
    }
    return json.dumps(payload, indent=2)


def to_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub workflow commands, one annotation per diagnostic."""
    lines = []
    for d in sorted(diagnostics, key=sort_key):
        kind = "error" if d.severity is Severity.ERROR else "warning"
        msg = d.message + (f" ({d.hint})" if d.hint else "")
        msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        lines.append(
            f"::{kind} file={d.path},line={d.line or 1},col={d.col or 1},title={d.code}::{msg}"
        )
    return "\n".join(lines)


def to_junit(diagnostics: Sequence[Diagnostic], checked: Sequence[str], suite: str) -> str:
    """JUnit XML with one test case per checked file; each diagnostic is a failure."""
    from xml.sax.saxutils import escape, quoteattr  # pulls in urllib: only for this format

    by_file: dict[str, list[Diagnostic]] = {path: [] for path in checked}
    for d in diagnostics:
        by_file.setdefault(d.path, []).append(d)
    failures = sum(1 for ds in by_file.values() if any(x.severity is Severity.ERROR for x in ds))
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name={quoteattr(suite)} tests="{len(by_file)}" failures="{failures}">',
    ]
    for path, ds in sorted(by_file.items()):
        out.append(f"  <testcase classname={quoteattr(suite)} name={quoteattr(path)}>")
        for d in sorted(ds, key=sort_key):
            if d.severity is Severity.ERROR:
                out.append(
                    f"    <failure type={quoteattr(d.code)} message={quoteattr(d.message)}>"
                    f"{escape(d.render())}</failure>"
                )
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out)
