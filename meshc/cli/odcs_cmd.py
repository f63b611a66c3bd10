"""`meshc import odcs` and `meshc export odcs`: ODCS v3 (the Open Data Contract Standard) in and
out. Needs the ODCS package (`pip install 'meshc[odcs]'`), imported only by these commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from collections.abc import Callable

    from meshc.odcs.convert import Conversion

import_app = typer.Typer(
    help="Convert contracts written in another standard into meshc contracts.",
    no_args_is_help=True,
)
export_app = typer.Typer(
    help="Convert meshc contracts into another standard.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")


@import_app.command("odcs")
def import_odcs(
    file: Path = typer.Argument(..., help="An ODCS v3 data contract (YAML)."),
    out: Path = typer.Option(
        None, "--output", "-o", help="Write the meshc contract here \\[default: stdout]."
    ),
    object_name: str = typer.Option(
        None, "--object", help="The schema object to import when the file has several."
    ),
    domain: str = typer.Option(
        None, "--domain", help="The meshc domain \\[default: the file's `domain`]."
    ),
    force: bool = typer.Option(False, "--force", help="Replace the --output file if it exists."),
) -> None:
    """Convert an ODCS v3 data contract into a meshc contract (docs/odcs.md).

    What meshc has no place for is printed as `warning: not mapped: <path> (<why>)` on stderr;
    rules meshc refuses are left out and listed the same way, so the result passes
    `meshc check`. An existing --output file (a contract written by hand, the ODCS file itself)
    is replaced only with --force. Exit 0 converted, 2 when the file is no valid ODCS v3
    contract or --output exists."""
    from meshc.odcs.convert import import_odcs as convert

    if out is not None and out.exists() and not force:
        _fail([f"{out}: exists; pass --force to replace it"])
    _emit(_run(lambda: convert(file, object_name=object_name, domain=domain)), out)


@export_app.command("odcs")
def export_odcs(
    contract: Path = typer.Argument(..., help="A meshc contract."),
    out: Path = typer.Option(
        None, "--output", "-o", help="Write the ODCS document here \\[default: stdout]."
    ),
) -> None:
    """Convert a meshc contract into an ODCS v3 data contract (docs/odcs.md).

    The document is checked against the standard's JSON Schema. What ODCS has no place for is
    kept under `customProperties` (property `meshc`), so `meshc import odcs` gives the same
    contract back, and listed as `warning: not mapped: ...` on stderr. Exit 0 converted, 2 when
    the contract is invalid."""
    from meshc.odcs.convert import export_odcs as convert

    _emit(_run(lambda: convert(contract)), out)


def _run(convert: Callable[[], Conversion]) -> Conversion:
    from meshc.errors import ContractError

    try:
        result = convert()
    except ContractError as exc:
        _fail([d.render() for d in exc.diagnostics])
    return result


def _emit(result: Conversion, out: Path | None) -> None:
    """The document first (stdout or the file), then the not-mapped notes on stderr."""
    if out is None:
        typer.echo(result.text, nl=False)
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(f".{out.name}.tmp")
            tmp.write_text(result.text, encoding="utf-8")
            tmp.replace(out)  # atomic: a failed write leaves the previous file as it was
        except OSError as exc:
            _fail([f"{out}: cannot write: {exc.strerror or exc}"])
    for note in result.notes:
        typer.echo(f"warning: {note.render()}", err=True)
    if out is not None:
        typer.echo(f"wrote {out} ({len(result.notes)} not mapped)", err=True)


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(2)
