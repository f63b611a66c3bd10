"""`meshc docs`: build the data-product site (meshc.docs_site)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("docs")
    def docs(
        out: Path = typer.Option(Path("site"), "--out", "-o", help="Folder to write the site to."),
        project: Path = typer.Option(Path("mesh.yaml"), "--mesh", help="The mesh project file."),
        root: Path = typer.Option(
            None, "--root", help="Lakehouse root holding the run records \\[default: mesh.yaml's]."
        ),
    ) -> None:
        """Build a static site (open index.html from disk) with the mesh by domain, each data
        product's schema, rules, version history and runs over time, and the lineage graph.
        Exit 2 on errors (an invalid contract, an --out folder meshc did not build)."""
        from meshc.docs_site import build_site

        pages = build_site(project, out, root, warn=lambda m: typer.echo(f"warning: {m}", err=True))
        typer.echo(f"wrote {len(pages)} pages; open {pages[0]}")
