"""`meshc schema`: print a JSON Schema shipped with meshc."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("schema")
    def schema(
        name: str = typer.Argument("contract", help="contract, mesh or run-report."),
    ) -> None:
        """Print the JSON Schema of contracts (or of mesh.yaml / run reports)."""
        from meshc.schema_validation import schema_text

        try:
            typer.echo(schema_text(name), nl=False)
        except FileNotFoundError:
            typer.echo(f"error: no schema named '{name}' (contract, mesh, run-report)", err=True)
            raise typer.Exit(2) from None
