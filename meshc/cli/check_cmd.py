"""`meshc check`: lint contracts for CI and pre-commit. Imports no dataframe engine.

The typer declaration of the command (help, options); meshc.cli.check_fast runs it."""

from __future__ import annotations

from pathlib import Path

import typer

from meshc.cli.check_fast import CheckArgs, execute
from meshc.cli.output import CheckFormat


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        paths: list[str] = typer.Argument(
            None, help="Contract files, directories or globs \\[default: contracts/]."
        ),
        fmt: CheckFormat = typer.Option(CheckFormat.text, "--format", "-f", help="Output format."),
        strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
        mesh: Path = typer.Option(
            None,
            "--mesh",
            help="mesh.yaml with governance policies \\[default: ./mesh.yaml when present].",
        ),
        base: str = typer.Option(
            None, "--base", help="Git ref to compare against for breaking changes."
        ),
        no_cache: bool = typer.Option(
            False,
            "--no-cache",
            help="Compile every rule again instead of reusing .meshc_cache/ "
            "(also MESHC_NO_CACHE=1; MESHC_CACHE_DIR moves it).",
        ),
        daemon: bool = typer.Option(
            False,
            "--daemon",
            help="Check in a warm meshc daemon, started in the background when none runs "
            "(`meshc daemon stop` stops it): no Python start-up or rule-parser import per "
            "check. Checks in-process whenever no daemon can serve; the output is the same.",
        ),
    ) -> None:
        """Validate contracts: JSON Schema, rule compilation, governance and breaking changes.

        Exit 0 when clean, 1 when there are findings, 2 on usage errors."""
        # --daemon was taken off the line by meshc.cli.app, which asked the daemon first; here
        # the check runs in-process, as it does whenever no daemon can serve.
        # A plain `meshc check ...` line never gets here: meshc.cli.check_fast parses it and
        # runs the same `execute` without typer (the pre-commit hook's start-up time).
        args = CheckArgs(
            paths=tuple(paths or ()),
            fmt=fmt,
            strict=strict,
            mesh=mesh,
            base=base,
            no_cache=no_cache,
        )
        raise typer.Exit(execute(args))
