"""Mesh-wide commands: `meshc mesh` (run every contract), `meshc graph`, `meshc lineage`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from meshc.cli import spark_options
from meshc.cli.run_cmd import RunFormat

if TYPE_CHECKING:
    from meshc.mesh.run import ProductStatus


def register(app: typer.Typer) -> None:
    @app.command("mesh")
    def mesh(
        project: Path = typer.Option(Path("mesh.yaml"), "--mesh", help="The mesh project file."),
        engine: str = typer.Option(
            None,
            "--engine",
            "-e",
            help="Run every domain on this engine \\[default: each domain's default_engine].",
        ),
        root: Path = typer.Option(None, "--root", help="Lakehouse root \\[default: mesh.yaml's]."),
        fmt: RunFormat = typer.Option(
            RunFormat.text,
            "--format",
            "-f",
            help="text, json, junit, github (annotations) or markdown (a job summary, also "
            "appended to $GITHUB_STEP_SUMMARY).",
        ),
        quiet: bool = typer.Option(False, "--quiet", help="No progress lines on stderr."),
        spark_master: str = typer.Option(None, "--spark-master", help=spark_options.MASTER_HELP),
        spark_conf: list[str] = typer.Option(None, "--spark-conf", help=spark_options.CONF_HELP),
    ) -> None:
        """Run every contract of the mesh in dependency order and print the data-product table.
        Exit 1 when a data product failed, 2 on errors, 143 on SIGTERM."""
        statuses = run_project(
            project,
            engine,
            root,
            fmt=fmt.value,
            quiet=quiet,
            spark_master=spark_master,
            spark_conf=spark_conf,
        )
        raise mesh_exit(statuses)

    @app.command("graph")
    def graph(
        paths: list[str] = typer.Argument(None, help="Contracts \\[default: contracts/]."),
        mermaid: bool = typer.Option(
            False, "--mermaid", help="Print a Mermaid diagram instead of a tree."
        ),
    ) -> None:
        """Show domains, contracts and their dependencies (foreign keys, gold inputs)."""
        from meshc.mesh.graph import build_graph

        g = build_graph(_contracts(paths or ["contracts"]))
        if mermaid:
            typer.echo(g.mermaid())
            return
        from rich.console import Console
        from rich.tree import Tree

        tree = Tree("mesh")
        domains: dict[str, Tree] = {}
        for ref in g.order():
            c = g.contracts[ref]
            branch = domains.setdefault(c.info.domain, tree.add(f"[bold]{c.info.domain}[/bold]"))
            node = branch.add(
                f"{c.info.name} [dim]({c.info.system or '-'}, v{c.info.version})[/dim]"
            )
            for parent in g.parents[ref]:
                node.add(f"← {parent}")
        Console().print(tree)

    @app.command("lineage")
    def lineage(
        contract: str = typer.Argument(..., help="A contract ref (domain.name) or file."),
        root: Path = typer.Option(Path("lakehouse"), "--root", help="Lakehouse root."),
        fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
    ) -> None:
        """Trace a contract's last run back to its inputs, their domains, systems and runs."""
        from meshc.mesh.trace import trace

        result = trace(contract, root)
        if fmt == "json":
            typer.echo(json.dumps(result, indent=2))
            return
        from rich.console import Console
        from rich.tree import Tree

        def add(node: Tree, rec: dict) -> None:
            for up in rec.get("upstream", []):
                child = node.add(
                    f"{up['ref']} [dim]domain={up['domain']} system={up['system']} "
                    f"v{up['version']} run={up['run_id']}[/dim]"
                )
                add(child, up)

        top = Tree(f"[bold]{result['ref']}[/bold] run={result['run_id']}")
        add(top, result)
        Console().print(top)


def _contracts(paths: list[str]):
    from meshc.checking import run_check
    from meshc.errors import ContractError

    result = run_check(paths)
    if result.errors:
        raise ContractError([d for d in result.diagnostics if d.severity.value == "error"])
    return result.contracts


def run_project(
    project: Path,
    engine: str | None,
    root: Path | None,
    *,
    fmt: str = "text",
    quiet: bool = False,
    spark_master: str | None = None,
    spark_conf: list[str] | None = None,
):
    from meshc.cli.mesh_render import emit_mesh
    from meshc.cli.output import progress_reporter
    from meshc.engines.registry import DEFAULT_ENGINE
    from meshc.mesh.project import load_project
    from meshc.mesh.run import run_mesh

    proj = load_project(project)
    spark_options.configure_spark(spark_master, spark_conf, proj.spark)
    contracts = _contracts(proj.contract_dirs())
    engines = {} if engine else proj.engines
    with progress_reporter("meshc mesh", quiet) as progress:
        statuses = run_mesh(
            contracts,
            engines=engines,
            default_engine=engine or DEFAULT_ENGINE,
            root=root or proj.root,
            progress=progress,
            mesh=proj,
        )
    emit_mesh(statuses, fmt, title=f"{proj.name}: data products")
    return statuses


def mesh_exit(statuses: list[ProductStatus]) -> typer.Exit:
    """The command's exit once the table is printed: releases the engines behind the results (a
    DuckDB connection each) first, since a command reads nothing more from them."""
    from meshc.mesh.run import close_results

    close_results(statuses)
    return typer.Exit(0 if all(s.trust in ("trusted", "degraded") for s in statuses) else 1)
