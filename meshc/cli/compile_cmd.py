"""`meshc compile`: write Pandera schemas, GX suites, validation SQL and a manifest per contract."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("compile")
    def compile_(
        paths: list[str] = typer.Argument(
            None, help="Contract files, directories or globs \\[default: contracts/]."
        ),
        out: Path = typer.Option(
            Path("compiled"),
            "--out",
            "-o",
            help="Output folder; each contract goes to <out>/<domain>/<name>/.",
        ),
        check: bool = typer.Option(
            False,
            "--check",
            help="Write nothing; exit 1 when the files on disk are missing or stale.",
        ),
    ) -> None:
        """Compile contracts to artifacts other tools run (docs/compile.md).

        Exit 0 ok (or up to date with --check); 1 stale artifacts with --check; 2 invalid
        contracts or usage errors. Rules a target cannot express are warnings on stderr."""
        from meshc.cli.output import render_diagnostics_text
        from meshc.errors import ContractError

        try:
            stale, written, warnings = compile_paths(paths or ["contracts"], out, check=check)
        except ContractError as exc:
            render_diagnostics_text(exc.diagnostics, 1)
            raise typer.Exit(2) from None
        for line in warnings:
            typer.echo(f"warning: {line}", err=True)
        if check:
            for path in stale:
                typer.echo(f"stale: {path}")
            if stale:
                typer.echo(
                    f"{len(stale)} artifact(s) out of date; run `meshc compile --out {out}`",
                    err=True,
                )
                raise typer.Exit(1)
            typer.echo("compiled artifacts are up to date", err=True)
            return
        typer.echo(f"wrote {written} file(s) under {out}", err=True)


def compile_paths(
    paths: list[str], out: Path, *, check: bool = False
) -> tuple[list[str], int, list[str]]:
    """(stale or missing files, files written, gap warnings). Raises ContractError."""
    from meshc.discovery import find_contracts
    from meshc.emit import emit_contract
    from meshc.errors import ContractError
    from meshc.loader import load_contract
    from meshc.rules.compiler import compile_contract

    files, problems = find_contracts(paths)
    if problems:
        raise ContractError(problems)
    stale: list[str] = []
    warnings: list[str] = []
    written = 0
    for path in files:
        compiled = compile_contract(load_contract(path))
        artifacts = emit_contract(compiled, Path(path).read_bytes())
        folder = out / artifacts.folder
        warnings += [
            f"{path}: {g.target} cannot express {g.rule_id}: {g.reason}" for g in artifacts.gaps
        ]
        for artifact in artifacts.files:
            target = folder / artifact.name
            current = target.read_bytes() if target.is_file() else None
            if current == artifact.text.encode("utf-8"):
                continue
            if check:
                stale.append(target.as_posix())
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(artifact.text.encode("utf-8"))
            written += 1
    return stale, written, warnings
