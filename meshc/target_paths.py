"""Where a contract may write: `output.target` and `quarantine.target` are folders under the
lakehouse root. An absolute target (MC209) or one that climbs out of the root with `..` (MC210)
would let a contract overwrite any file the runner can reach, so `meshc check` reports it and the
runner refuses it; a path the user gives on the command line (-o/-q) or as an API argument is the
user's own choice and is not subject to this rule.

The codes are `RUN_TIME_CODES`: loading such a contract still succeeds (a run with explicit paths
never uses the declared target); the runner refuses the target when it would write there.
"""

from __future__ import annotations

import posixpath
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from meshc.diagnostics import Diagnostic
from meshc.located_yaml import Locator

RUN_TIME_CODES = frozenset({"MC209", "MC210"})
TARGET_KEYS = (("output", "target"), ("quarantine", "target"))
_HINT = (
    "give a folder relative to the lakehouse root (--root), e.g. {example}; to write elsewhere, "
    "pass the file on the command line ({flag})"
)


def target_problem(section: str, value: str) -> tuple[str, str, str] | None:
    """(code, message, hint) when the declared target `value` of `section` leaves the root.
    Objects and database tables are not under the root: only local targets (a Delta table's
    folder too) are, as the runner writes them (a `file:` URL is its path)."""
    from meshc.storage.location import parse, scheme_of

    if scheme_of(value) != "file":
        return None
    value = parse(value).url
    example = "silver/crm/orders" if section == "output" else "quarantine/crm/orders"
    hint = _HINT.format(example=example, flag="-o" if section == "output" else "-q")
    if PurePosixPath(value).is_absolute() or PureWindowsPath(value).anchor:
        return "MC209", f"{section}.target '{value}' is an absolute path", hint
    normal = posixpath.normpath(value.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        return "MC210", f"{section}.target '{value}' escapes the lakehouse root", hint
    return None


def target_problems(data: Any, loc: Locator) -> list[Diagnostic]:
    """Located diagnostics for every declared target of a (possibly schema-invalid) contract,
    and for its storage locations (meshc.storage.checks: those stop a load, these do not)."""
    from meshc.storage.checks import storage_problems

    out = storage_problems(data, loc)
    for section, key in TARGET_KEYS:
        block = data.get(section) if isinstance(data, dict) else None
        value = block.get(key) if isinstance(block, dict) else None
        problem = target_problem(section, value) if isinstance(value, str) else None
        if problem is not None:
            code, message, hint = problem
            out.append(loc.diagnostic(code, message, (section, key), hint=hint))
    return out
