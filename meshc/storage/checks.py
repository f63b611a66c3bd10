"""`meshc check` for where a contract's data lives: `source`, `output` and `quarantine` naming
files, objects, Delta tables or database tables (docs/storage.md, docs/contract-reference.md).

Works on the raw YAML data (possibly schema-invalid: a key of the wrong type is the schema's
finding, not ours), so one run reports every problem. Light: no storage library is imported; an
installed library is found with `importlib.util.find_spec`, which reads no module.

    MC220  unknown storage scheme          MC224  `mode: append` on files or objects
    MC221  a secret in a location URL      MC225  `format` that does not fit the location
    MC222  incomplete or ambiguous         MC226  the storage's library is not installed (warning:
           database/table keys                    `meshc check` runs in light installs such as
    MC223  no location at all                     pre-commit hooks; `--strict` fails on it)
                                           MC227  a source `query` that is not one SELECT

The errors stop a run too (the contract does not load); MC226 does not (the run says what to
install when it needs the library).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from meshc.diagnostics import Diagnostic, Severity
from meshc.located_yaml import Locator
from meshc.storage.location import (
    DATABASE_SCHEMES,
    OBJECT_SCHEMES,
    LocationError,
    known_scheme,
    parse,
    scheme_of,
)

LOCATION_KEY = {"source": "path", "output": "target", "quarantine": "target"}
# `user:password@` after `//`, or a password parameter (libpq accepts `?password=`)
_SECRET = re.compile(r"(//[^/@:\s]*):[^/@\s]*@|([?&](?:password|sslpassword)=)[^&#\s]*", re.I)
_KNOWN = ("file", *OBJECT_SCHEMES, *DATABASE_SCHEMES)
_SCHEME_HINT = (
    "write a local path, an object URL (s3://bucket/key, gs://..., az://...), "
    "postgresql://host:port/db#schema.table or duckdb:file.duckdb#table"
)


def redact(text: str) -> str:
    """`text` with every password of a URL in it replaced by ***."""
    return _SECRET.sub(lambda m: f"{m[1]}:***@" if m[1] else f"{m[2]}***", text)


def storage_problems(data: Any, loc: Locator) -> list[Diagnostic]:
    """Located diagnostics for the locations of `source`, `output` and `quarantine`."""
    if not isinstance(data, dict):
        return []
    out: list[Diagnostic] = []
    for section in LOCATION_KEY:
        block = data.get(section)
        if isinstance(block, dict):
            out.extend(_Section(section, block, loc).problems())
    return [replace(d, source_line=redact(d.source_line)) if d.source_line else d for d in out]


class _Section:
    def __init__(self, section: str, block: dict[str, Any], loc: Locator) -> None:
        self.section, self.block, self.loc = section, block, loc
        self.out: list[Diagnostic] = []

    def text(self, key: str) -> str | None:
        value = self.block.get(key)
        return value if isinstance(value, str) else None

    def report(
        self, code: str, key: str | None, message: str, hint: str, *, warning: bool = False
    ) -> None:
        jpath = (self.section, key) if key else (self.section,)
        severity = Severity.WARNING if warning else None
        self.out.append(
            self.loc.diagnostic(code, message, jpath, hint=hint, at_key=True, severity=severity)
        )

    def problems(self) -> list[Diagnostic]:
        key = self._location_key()
        text = self.text(key) if key else None
        if key is None or text is None:
            return self.out
        if not text.strip():
            self.report(
                "MC223",
                key,
                f"{self.section}.{key} is empty",
                "name the data: a path, an object URL, or a database connection",
            )
        elif self._usable(key, text):
            self._fits(key, text)
        return self.out

    def _location_key(self) -> str | None:
        """The key holding the location text ("path"/"target" or "connection"), if exactly one."""
        own = LOCATION_KEY[self.section]
        given = [k for k in (own, "connection") if k in self.block]
        if len(given) == 2:
            self.report(
                "MC222",
                "connection",
                f"{self.section} gives both `{own}` and `connection`",
                f"keep `{own}` for files, objects and Delta tables, or `connection` + `table` "
                "for a database table",
            )
            return None
        if not given:
            if self.section == "source":
                self.report(
                    "MC223",
                    None,
                    "the source names no data: it has neither `path` nor `connection`",
                    "give `path` (files, objects, a Delta table) or `connection` with `table` or "
                    "`query` (a database)",
                )
            elif self.section == "output":
                self.report(
                    "MC223",
                    None,
                    "the output names no target: it has neither `target` nor `connection`",
                    "give `target` (a folder under the root, an object URL, a Delta table) or "
                    "`connection` + `table` (a database)",
                )
            self._database_keys_without_database()
            return None  # a quarantine without a declared target is written where -q says
        return given[0]

    def _usable(self, key: str, text: str) -> bool:
        """False (reported) when the text is no location meshc can use at all."""
        if _SECRET.search(text):
            self.report(
                "MC221",
                key,
                f"{self.section}.{key} '{redact(text)}' holds a password",
                "remove it: set PGPASSWORD or a ~/.pgpass entry (PostgreSQL), or the standard "
                "AWS_*, GOOGLE_*, AZURE_* variables (objects) where meshc runs; a contract is "
                "shared, a secret must not be in it",
            )
            return False
        scheme = scheme_of(text)
        if not known_scheme(scheme):
            close = _closest(scheme)
            self.report(
                "MC220",
                key,
                f"{self.section}.{key} '{text}': unknown storage scheme '{scheme}:'",
                (f"{close} " if close else "") + _SCHEME_HINT,
            )
            return False
        if key == "connection" and scheme not in DATABASE_SCHEMES:
            self.report(
                "MC222",
                key,
                f"{self.section}.connection '{text}' is not a database",
                f"a connection is postgresql://host:port/db or duckdb:file.duckdb; files, "
                f"objects and Delta tables go in `{LOCATION_KEY[self.section]}`",
            )
            return False
        return True

    def _fits(self, key: str, text: str) -> None:
        scheme = scheme_of(text)
        if scheme in DATABASE_SCHEMES:
            self._database(key, text, scheme)
        else:
            self._database_keys_without_database()
            self._append_to_files(text)
        if not self.out:
            self._library(key, text)

    def _database(self, key: str, text: str, scheme: str) -> None:
        table, query = self.text("table"), self.text("query")
        in_text = "#" in text
        where = f"{self.section}.{key} '{text}'"
        if table is not None and query is not None:
            self.report(
                "MC222",
                "query",
                f"{self.section} gives both `table` and `query`",
                "read a table with `table`, or select with `query`: not both",
            )
        elif in_text and (table is not None or query is not None):
            self.report(
                "MC222",
                "table" if table is not None else "query",
                f"{where} already names a table after '#'",
                "name the table once: in the URL (#schema.table) or in `table`",
            )
        elif not in_text and table is None and query is None:
            what = "`table` or `query`" if self.section == "source" else "`table`"
            self.report(
                "MC222",
                key,
                f"{where} names a database but no table",
                f"add {what} (or write the table after '#': {text}#schema.table)",
            )
        fmt = self.text("format")
        if fmt is not None and fmt != "parquet":
            self.report(
                "MC225",
                "format",
                f"format '{fmt}' does not fit a database table ({scheme})",
                "remove `format`: a table's columns are typed (a Delta table is a folder or "
                "object URL in `path`/`target`, with format delta)",
            )
        if query is not None:
            from meshc.storage.query import query_problem

            problem = query_problem(query, scheme)
            if problem is not None:
                self.report(
                    "MC227",
                    "query",
                    f"source.query: {problem}",
                    "write one SELECT (joins, filters and WITH are fine): a source only reads, "
                    "it never changes the database",
                )

    def _database_keys_without_database(self) -> None:
        for extra in ("table", "query"):
            if extra in self.block:
                self.report(
                    "MC222",
                    extra,
                    f"`{extra}` names a database table, but {self.section} has no database "
                    "`connection`",
                    f"add `connection: postgresql://host:port/db` (or duckdb:file.duckdb), or "
                    f"remove `{extra}`",
                )

    def _append_to_files(self, text: str) -> None:
        if self.text("mode") == "append" and self.text("format") != "delta":
            kind = "objects" if scheme_of(text) in OBJECT_SCHEMES else "files"
            self.report(
                "MC224",
                "mode",
                f"`mode: append` cannot apply to {kind} ({self.section}.target '{text}'): "
                "each run replaces them whole",
                "append needs a Delta table (format: delta) or a database table; otherwise "
                "remove `mode` (overwrite)",
            )

    def _library(self, key: str, text: str) -> None:
        from meshc.storage.support import REQUIRES, storage_of

        try:
            location = parse(
                text,
                format=self.text("format"),
                table=self.text("table"),
                query=self.text("query"),
            )
        except LocationError as exc:  # what the checks above missed, said the parser's way
            self.report("MC222", key, redact(str(exc)), _SCHEME_HINT)
            return
        storage = storage_of(location)
        if storage not in REQUIRES:
            return
        module, extra = REQUIRES[storage]
        if not installed(module):
            self.report(
                "MC226",
                key,
                f"{self.section} uses {storage} storage, which needs the Python module "
                f"'{module}': not installed here",
                f"pip install '{extra}' where this contract runs (a warning, so that light "
                "installs such as pre-commit hooks pass; `meshc check --strict` fails on it)",
                warning=True,
            )


def _closest(scheme: str) -> str | None:
    """A did-you-mean for a scheme: short names (s4, gz) need a lower cutoff than words."""
    import difflib

    close = difflib.get_close_matches(scheme.lower(), _KNOWN, n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'?" if close else None


def installed(module: str) -> bool:
    """Whether `module` (dotted) can be imported, without importing it or its parent package."""
    import importlib.machinery
    import importlib.util
    import sys

    top, _, rest = module.partition(".")
    if top in sys.modules:  # None there blocks the import (Python's documented way)
        spec = getattr(sys.modules[top], "__spec__", None)
        if spec is None:
            return False
    else:
        spec = importlib.util.find_spec(top)
    name = top
    for part in rest.split(".") if rest else ():
        paths = spec.submodule_search_locations if spec is not None else None
        if not paths:
            return False
        name = f"{name}.{part}"
        spec = importlib.machinery.PathFinder.find_spec(name, list(paths))
    return spec is not None
