"""`meshc run`: validate a source against its contract and write valid rows and the quarantine."""

from __future__ import annotations

from contextlib import ExitStack
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from meshc.cli import spark_options
from meshc.engines.registry import DEFAULT_ENGINE, ENGINES


class RunFormat(str, Enum):
    text = "text"
    json = "json"
    junit = "junit"
    github = "github"  # GitHub Actions annotations
    markdown = "markdown"  # a job / pull-request summary (also appended to $GITHUB_STEP_SUMMARY)


class Validator(str, Enum):
    pandera = "pandera"
    gx = "gx"


if TYPE_CHECKING:
    from meshc.mesh.project import MeshProject

    class EngineName(str, Enum):
        """The --engine choices: one member per name in meshc.engines.registry.ENGINES."""

else:  # built from the registry, so the CLI offers exactly the engines meshc has
    EngineName = Enum("EngineName", {name: name for name in ENGINES}, type=str)


def parse_fail_on(value: str | None) -> float | None:
    """'any' -> 0 (fail on any quarantined row), '5%' or '0.05' -> that ratio, 'never' -> None."""
    if value is None or value == "never":
        return None
    if value == "any":
        return 0.0
    try:
        ratio = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise typer.BadParameter(
            "use any, never, a percentage like 5% or a ratio like 0.05"
        ) from None
    if not 0 <= ratio <= 1:
        raise typer.BadParameter("the ratio must be between 0 and 1 (0% and 100%)")
    return ratio


def local_mesh() -> MeshProject | None:
    """./mesh.yaml when present, as `meshc check` reads it: the runner applies its policies to
    the contracts it governs, exactly as `meshc mesh` does."""
    path = Path("mesh.yaml")
    if not path.is_file():
        return None
    from meshc.mesh.project import load_project

    return load_project(path)


def run(
    contract: Path = typer.Option(None, "--contract", "-c", help="The contract YAML."),
    run_all: bool = typer.Option(
        False,
        "--all",
        help="Run every contract of the mesh (mesh.yaml) "
        "in dependency order; same as `meshc mesh`.",
    ),
    source: str = typer.Option(
        None,
        "--source",
        "-s",
        help="File, directory or glob \\[default: the contract's source].",
    ),
    engine: EngineName = typer.Option(
        None,
        "--engine",
        "-e",
        help="Execution engine \\[default: polars; "
        "with --all, each domain's engine from mesh.yaml].",
    ),
    # str, not Path: a Path collapses the `//` of s3://... and postgresql://... locations
    output: str = typer.Option(
        None,
        "--output",
        "-o",
        help="Valid rows file \\[default: <root>/<output.target>/data.parquet].",
    ),
    quarantine: str = typer.Option(
        None,
        "--quarantine",
        "-q",
        help="Quarantine file \\[default: <root>/<quarantine.target>/data.parquet].",
    ),
    root: Path = typer.Option(
        Path("lakehouse"), "--root", help="Lakehouse root for declared targets and run records."
    ),
    show_quarantine: bool = typer.Option(
        False, "--show-quarantine", help="Print quarantined rows with their reasons."
    ),
    limit: int = typer.Option(
        20, "--limit", min=0, help="With --show-quarantine: print at most N rows (0: all)."
    ),
    quiet: bool = typer.Option(
        False, "--quiet", help="No progress lines on stderr (the report is still printed)."
    ),
    fmt: RunFormat = typer.Option(
        RunFormat.text, "--format", "-f", help="Report format on stdout."
    ),
    fail_on: str = typer.Option(
        None,
        "--fail-on",
        help="Exit 1 when the quarantined share exceeds this: any, 5%, 0.05, never.",
    ),
    no_write: bool = typer.Option(
        False, "--no-write", help="Validate and report only; write nothing."
    ),
    spark_master: str = typer.Option(None, "--spark-master", help=spark_options.MASTER_HELP),
    spark_conf: list[str] = typer.Option(None, "--spark-conf", help=spark_options.CONF_HELP),
    validator: Validator = typer.Option(
        None,
        "--validator",
        help="Judge rows with the compiled pandera schema (pandas, polars) or gx suite "
        "(pandas, spark) instead of meshc's own expressions; rules the artifact cannot "
        "express are judged natively and named in the report.",
    ),
) -> None:
    """Validate a source: valid rows to the output, failing rows to the quarantine with reasons.

    Exit 0 ok; 1 when a dataset rule or a threshold (--fail-on, quality.max_quarantine_ratio)
    fails; 2 on errors (bad contract, unreadable source, failed write; nothing is changed);
    143 when stopped by SIGTERM (nothing is changed, or the whole new pair is in place)."""
    from meshc.cli import run_render
    from meshc.cli.output import progress_reporter, stderr
    from meshc.errors import ContractError, MeshcError
    from meshc.runner.processor import DataProcessor

    if run_all:
        from meshc.cli.mesh_cmd import mesh_exit, run_project

        if validator:
            stderr().print("[red]error:[/red] --validator judges one contract; drop --all")
            raise typer.Exit(2)

        statuses = run_project(
            Path("mesh.yaml"),
            engine.value if engine else None,
            None if root == Path("lakehouse") else root,
            fmt=fmt.value,
            quiet=quiet,
            spark_master=spark_master,
            spark_conf=spark_conf,
        )
        raise mesh_exit(statuses)
    if contract is None:
        raise typer.BadParameter("give --contract C.yaml, or --all for the whole mesh")
    threshold = parse_fail_on(fail_on)
    err = stderr()
    # the processor's engine holds the result's frames (a DuckDB connection): closed on leaving,
    # once the report (and --show-quarantine's rows) are printed, or on any error
    with ExitStack() as held:
        try:
            with progress_reporter("meshc run", quiet) as progress:
                mesh = local_mesh()
                mesh_spark = mesh.spark if mesh else None
                spark_options.configure_spark(spark_master, spark_conf, mesh_spark)
                processor = held.enter_context(
                    DataProcessor(
                        contract,
                        engine.value if engine else DEFAULT_ENGINE,
                        mesh=mesh,
                        root=root,
                        progress=progress,
                        validator=validator.value if validator else None,
                    )
                )
                result = processor.run_source(
                    source, output=output, quarantine=quarantine, write=not no_write
                )
        except ContractError as exc:
            from meshc.cli.output import render_diagnostics_text

            render_diagnostics_text(exc.diagnostics, 1)
            raise typer.Exit(2) from None
        except MeshcError as exc:
            from rich.markup import escape

            err.print(f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False)
            raise typer.Exit(2) from None
        code = run_render.emit_run(
            result, fmt.value, fail_on=threshold, show_quarantine=show_quarantine, limit=limit
        )
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
