"""`meshc registry`: generate the mesh's contract registry, or check that it is up to date."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("registry")
    def registry(
        paths: list[str] = typer.Argument(None, help="Contracts \\[default: contracts/]."),
        output: Path = typer.Option(
            Path("contracts/registry.yaml"), "--output", "-o", help="The registry file."
        ),
        check: bool = typer.Option(
            False, "--check", help="Write nothing; exit 1 when the file is missing or stale."
        ),
    ) -> None:
        """List every contract (ref, path, version, owner, dependencies) in one YAML file."""
        from meshc.checking import run_check
        from meshc.cli.output import render_diagnostics_text
        from meshc.registry import render_registry
        from meshc.runner.writing import write_text_atomic

        result = run_check(paths or ["contracts"])
        if result.errors:
            render_diagnostics_text(result.diagnostics, len(result.files))
            raise typer.Exit(1)
        text = render_registry(result.contracts, output)
        if check:
            current = output.read_text("utf-8") if output.exists() else None
            if current != text:
                typer.echo(
                    f"{output} is {'missing' if current is None else 'stale'}: "
                    f"run `meshc registry --output {output}`",
                    err=True,
                )
                raise typer.Exit(1)
            typer.echo(f"{output} is up to date ({len(result.contracts)} contracts)")
            return
        write_text_atomic(output, text)
        typer.echo(f"wrote {output} ({len(result.contracts)} contracts)")
