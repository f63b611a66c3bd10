"""`meshc check` as the pre-commit hook runs it, without building the typer app.

typer (and pydantic, with which typer converts every parameter) cost more than checking one
contract, so `meshc.cli.app.main` first tries `parse`: a command line that is `check` followed
by paths and check's own options in their plain spellings runs straight through `execute`.
Anything else (`--help`, an unknown option, a repeated one, a value that is no choice) returns
None and goes to the typer app, which handles and reports it as it always has. Both ways run
`execute`, so the output and the exit code are the same; tests/test_check_fast.py checks that
the options known here are the typer command's.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from meshc.cli.output import CheckFormat, echo

if TYPE_CHECKING:
    from meshc.checking import CheckResult

VALUED = {"--format": "fmt", "-f": "fmt", "--mesh": "mesh", "--base": "base"}
FLAGS = {"--strict": "strict", "--no-cache": "no_cache"}


@dataclass(frozen=True)
class CheckArgs:
    """The parameters of `meshc check` (meshc/cli/check_cmd.py declares them for typer)."""

    paths: tuple[str, ...] = ()
    fmt: CheckFormat = CheckFormat.text
    strict: bool = False
    mesh: Path | None = None
    base: str | None = None
    no_cache: bool = False


def run(argv: list[str]) -> int | None:
    """The exit code of a plain `meshc check ...` line; None for typer to handle. Ctrl-C and a
    closed pipe end as they do under typer: exit 130, and a quiet exit 1."""
    args = parse(argv)
    if args is None:
        return None
    try:
        return execute(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `meshc check | head`: stop writing, as click does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def parse(argv: list[str]) -> CheckArgs | None:
    """The arguments of a plain `meshc check ...` command line; None for typer to handle."""
    if not argv or argv[0] != "check":
        return None
    paths: list[str] = []
    seen: dict[str, object] = {}
    args = iter(argv[1:])
    for arg in args:
        if arg == "--":
            paths.extend(args)
            break
        if not arg.startswith("-"):
            paths.append(arg)
            continue
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        value: object
        if name in FLAGS and not eq:
            key, value = FLAGS[name], True
        elif name in VALUED:
            given = inline if eq else next(args, None)
            if not given or given.startswith("-"):
                return None  # typer: a missing value, or one that looks like an option
            key, value = VALUED[name], given
        else:
            return None
        if key in seen:
            return None
        seen[key] = value
    return _args(paths, seen)


def _args(paths: list[str], seen: dict[str, object]) -> CheckArgs | None:
    fmt = seen.get("fmt", CheckFormat.text.value)
    if fmt not in {f.value for f in CheckFormat}:
        return None  # typer names the choices
    mesh = seen.get("mesh")
    base = seen.get("base")
    return CheckArgs(
        paths=tuple(paths),
        fmt=CheckFormat(fmt),
        strict=bool(seen.get("strict", False)),
        mesh=Path(str(mesh)) if mesh is not None else None,
        base=str(base) if base is not None else None,
        no_cache=bool(seen.get("no_cache", False)),
    )


def execute(args: CheckArgs) -> int:
    """Check the contracts, print the findings in the chosen format; the exit code."""
    from meshc.check_cache import RuleCache
    from meshc.checking import run_check

    result = run_check(
        list(args.paths) or ["contracts"],
        mesh_path=args.mesh,
        base_ref=args.base,
        rules=RuleCache.for_check(enabled=not args.no_cache),
    )
    _emit(result, args.fmt)
    failing = result.errors or (args.strict and result.warnings)
    return 1 if failing else 0


def _emit(result: CheckResult, fmt: CheckFormat) -> None:
    from meshc import diagnostics as dg
    from meshc.cli.output import render_diagnostics_text

    if fmt is CheckFormat.text:
        render_diagnostics_text(result.diagnostics, len(result.files))
    elif fmt is CheckFormat.json:
        echo(dg.to_json(result.diagnostics, len(result.files)))
    elif fmt is CheckFormat.junit:
        echo(dg.to_junit(result.diagnostics, [str(f) for f in result.files], "meshc check"))
    else:
        out = dg.to_github(result.diagnostics)
        if out:
            echo(out)
