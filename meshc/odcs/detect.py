"""Recognise an ODCS data contract where a meshc contract is expected (MC009).

A dictionary look-up on data the loader already parsed: no ODCS package, no pydantic, so the
`meshc check` path stays as light as before.
"""

from __future__ import annotations

import re
from typing import Any

from meshc.diagnostics import Diagnostic
from meshc.located_yaml import Locator

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def odcs_api_version(data: Any) -> str | None:
    """The `apiVersion` of an ODCS document (`kind: DataContract`), else None."""
    if isinstance(data, dict) and data.get("kind") == "DataContract" and "apiVersion" in data:
        return str(data["apiVersion"])
    return None


def is_v3(api_version: str) -> bool:
    return api_version.startswith("v3.")


def odcs_diagnostic(data: Any, locator: Locator) -> Diagnostic | None:
    """One located MC009 saying what the file is and how to import it; None for other files."""
    version = odcs_api_version(data)
    if version is None:
        return None
    if not is_v3(version):
        return locator.diagnostic(
            "MC009",
            f"this is an ODCS {version} data contract; meshc imports ODCS v3 only",
            ("apiVersion",),
            at_key=True,
            hint="upgrade it to ODCS v3, then run `meshc import odcs` on it",
        )
    return locator.diagnostic(
        "MC009",
        f"this is an ODCS {version} data contract (Open Data Contract Standard), "
        "not a meshc contract",
        ("apiVersion",),
        at_key=True,
        hint=f"import it: meshc import odcs {locator.path} -o {_suggested_target(data)}",
    )


def _suggested_target(data: dict[str, Any]) -> str:
    domain, name = data.get("domain"), data.get("name")
    if all(isinstance(v, str) and _IDENTIFIER.match(v) for v in (domain, name)):
        return f"contracts/{domain}/{name}.yaml"
    return "contracts/<domain>/<name>.yaml"
