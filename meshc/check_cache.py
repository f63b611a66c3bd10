"""What `meshc check` learnt from compiling a contract's rules, kept between runs (as ruff and mypy
keep theirs), so a check whose rules did not change never imports the compiler or sqlglot.

Importing sqlglot alone costs more than the rest of a check (issue #13: one contract in 0.3 s,
as a pre-commit hook runs it). The compile's findings depend only on the contract's fields and
rules, so they are stored under a hash of exactly those (and of the meshc, sqlglot and Python
that produced them), with each problem placed by JSON path rather than line: editing a
description, an owner or the lines above a rule still hits, and the problems are placed
against the file as it is now (meshc.rules.problems.locate, as the compiler places them).

The cache lives in `.meshc_cache/` of the current directory (`MESHC_CACHE_DIR` moves it;
`meshc check --no-cache` or `MESHC_NO_CACHE=1` turns it off). It is only ever an accelerator:
an entry that cannot be read is a miss, and a folder that cannot be written is not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from meshc.contract import Contract
from meshc.diagnostics import Diagnostic, Severity
from meshc.rules.problems import Problem, located

DEFAULT_DIR = ".meshc_cache"
DIR_ENV, OFF_ENV = "MESHC_CACHE_DIR", "MESHC_NO_CACHE"
FORMAT = "rules-v1"  # bump when an entry's layout or meaning changes
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# A cache directory made by meshc check.\n"


@dataclass(frozen=True)
class RuleFacts:
    """What a check needs from one compile: its problems, and the fields that a row rule bounds
    at >= 0 on its own (the money_non_negative policy's question)."""

    problems: tuple[Problem, ...]
    non_negative: frozenset[str]

    def diagnostics(self, contract: Contract) -> list[Diagnostic]:
        return located(self.problems, contract)


def compile_facts(contract: Contract) -> RuleFacts:
    from meshc.governance.money import non_negative_columns
    from meshc.rules.compiler import compile_problems

    compiled, problems = compile_problems(contract)
    failed = any(p.severity is Severity.ERROR for p in problems)
    # as before the cache: a contract whose rules do not compile bounds nothing
    return RuleFacts(tuple(problems), frozenset() if failed else non_negative_columns(compiled))


class RuleCache:
    """RuleFacts by content: remembered for the process, and in `folder` when one is given."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._memory: dict[str, RuleFacts] = {}
        self._code: str | None = None

    @classmethod
    def for_check(cls, *, enabled: bool = True) -> RuleCache:
        """The cache `meshc check` uses: on disk unless turned off by option or environment."""
        if not enabled or os.environ.get(OFF_ENV, "") not in ("", "0"):
            return cls(None)
        return cls(Path(os.environ.get(DIR_ENV) or DEFAULT_DIR))

    def facts(self, contract: Contract) -> RuleFacts:
        key = self.key(contract)
        found = self._memory.get(key) or self._read(key)
        if found is None:
            found = compile_facts(contract)
            self._write(key, found)
        self._memory[key] = found
        return found

    def key(self, contract: Contract) -> str:
        """A hash of everything the compile reads: the fields and rules (with their JSON paths,
        which the problems are placed by) and the code that compiles them."""
        if self._code is None:
            self._code = _code_fingerprint()
        what = repr((contract.fields, contract.row_rules, contract.dataset_rules))
        return hashlib.sha256(f"{FORMAT}\0{self._code}\0{what}".encode()).hexdigest()

    def _entry(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / FORMAT / f"{key}.json"

    def _read(self, key: str) -> RuleFacts | None:
        if self.folder is None:
            return None
        try:
            data = json.loads(self._entry(key).read_text(encoding="utf-8"))
            problems = tuple(
                Problem(code, message, tuple(jpath), hint, offset, Severity(severity))
                for code, message, jpath, hint, offset, severity in data["problems"]
            )
            return RuleFacts(problems, frozenset(data["non_negative"]))
        except (OSError, ValueError, TypeError, KeyError):  # absent, torn or foreign: a miss
            return None

    def _write(self, key: str, facts: RuleFacts) -> None:
        if self.folder is None:
            return
        data = {
            "problems": [[*p[:5], p.severity.value] for p in facts.problems],
            "non_negative": sorted(facts.non_negative),
        }
        try:
            folder = self._entry(key).parent
            if not folder.is_dir():
                _make_folder(self.folder, folder)
            import tempfile  # only when something is new

            # written whole, then renamed: pre-commit runs checks in parallel processes
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(tmp, self._entry(key))
        except OSError:  # read-only checkout, full disk: check without remembering
            self.folder = None


def _make_folder(root: Path, folder: Path) -> None:
    new = not root.exists()
    folder.mkdir(parents=True, exist_ok=True)
    if new:  # never committed, never backed up (as ruff marks .ruff_cache)
        (root / ".gitignore").write_text("# made by meshc check\n*\n", encoding="utf-8")
        (root / "CACHEDIR.TAG").write_text(_TAG, encoding="utf-8")


def _code_fingerprint() -> str:
    """meshc's own files (size and modification time: an edited checkout counts), sqlglot's
    version and Python's: any of them can change what a rule compiles to."""
    parts = [sys.version, _sqlglot_version()]
    parts += sorted(_python_files(os.path.dirname(os.path.abspath(__file__)), ""))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _python_files(folder: str, relative: str) -> Iterator[str]:
    """'path:size:mtime' of every module under `folder` (plain os calls: this runs on every
    check, and Path objects for 200 files cost more than the cache saves on a small mesh)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            name = f"{relative}{entry.name}"
            if entry.name.endswith(".py"):
                stat = entry.stat()
                yield f"{name}:{stat.st_size}:{stat.st_mtime_ns}"
            elif entry.name != "__pycache__" and entry.is_dir(follow_symlinks=False):
                yield from _python_files(entry.path, f"{name}/")


def _sqlglot_version() -> str:
    from importlib.util import find_spec  # finds sqlglot without importing it

    spec = find_spec("sqlglot")
    origin = spec.origin if spec is not None else None
    if origin is None:
        return "no sqlglot"
    version = Path(origin).parent / "_version.py"
    try:
        return version.read_text(encoding="utf-8")
    except OSError:  # a sqlglot without the file: its package's own identity instead
        stat = Path(origin).stat()
        return f"{origin}:{stat.st_size}:{stat.st_mtime_ns}"
