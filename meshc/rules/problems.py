"""A rule problem before and after it is placed in its file.

The compiler raises RuleProblem; its callers record a Problem (where in the contract, by JSON
path, and where in the rule's text, by offset) and `locate` turns it into the Diagnostic users
see. Kept apart so that `meshc check` can replay a cached compile's problems against the file as
it is now (meshc/check_cache.py) without importing the compiler or sqlglot.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from meshc.diagnostics import Diagnostic, Severity
from meshc.located_yaml import JsonPath, Locator

if TYPE_CHECKING:
    from meshc.contract import Contract


class RuleProblem(Exception):
    """A rule that does not compile; `offset` is a 0-based character offset into the SQL."""

    def __init__(
        self,
        code: str,
        message: str,
        hint: str | None = None,
        offset: int | None = None,
        column: str | None = None,
    ):
        super().__init__(message)
        self.code, self.message, self.hint, self.offset = code, message, hint, offset
        self.column = column  # set for an unknown column


class Problem(NamedTuple):
    """One compile problem, placed by JSON path (and `offset` into the rule's text)."""

    code: str
    message: str
    jpath: JsonPath
    hint: str | None = None
    offset: int | None = None
    severity: Severity = Severity.ERROR


def locate(problem: Problem, path: str, locator: Locator | None) -> Diagnostic:
    """The problem as a Diagnostic at its line and column in the file `locator` read."""
    code, message, jpath, hint, offset, severity = problem
    if locator is None:
        return Diagnostic(code, message, path, hint=hint, severity=severity)
    d = locator.diagnostic(code, message, jpath, hint=hint, severity=severity)
    if offset is None or not d.line or d.source_line is None:
        return d
    # Point into the rule text when it sits on one line (plain or quoted scalar).
    start = d.col - 1
    quoted = d.source_line[start : start + 1] in ("'", '"')
    return Diagnostic(
        d.code,
        d.message,
        d.path,
        d.line,
        d.col + offset + int(quoted),
        d.hint,
        d.severity,
        d.source_line,
    )


def located(problems: Iterable[Problem], contract: Contract) -> list[Diagnostic]:
    """Each problem placed in the file the contract was read from."""
    return [locate(p, contract.path, contract.locator) for p in problems]
