"""`meshc bootstrap`: contracts (and a registry) from the data already in a landing folder.

Progress goes to stderr; the summary of suggestions (a table, or JSON with --json) to stdout.
Exit codes: 0 written, 2 usage or input error.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import typer


class SourceFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"
    json = "json"
    ndjson = "ndjson"


def register(app: typer.Typer) -> None:
    @app.command("bootstrap")
    def bootstrap_cmd(
        landing: Path = typer.Option(
            ..., "--landing", help="Landing folder: each file or sub-folder in it is one dataset."
        ),
        output: Path = typer.Option(
            Path("contracts"),
            "--output",
            "-o",
            help="Folder that receives one <dataset>.yaml per dataset.",
        ),
        registry: Path = typer.Option(
            None,
            "--registry",
            help="Registry file listing the contracts \\[default: <output>/registry.yaml].",
        ),
        suggest_rules: bool = typer.Option(
            False,
            "--suggest-rules",
            help="Also suggest quality rules (accepted values, ranges, keys, formats).",
        ),
        domain: str = typer.Option(
            None,
            "--domain",
            help="Domain of every contract \\[default: the landing folder's name].",
        ),
        system: str = typer.Option(None, "--system", help="Source system (info.system)."),
        fmt: SourceFormat = typer.Option(
            None, "--format", help="Format of the landing files \\[default: from the extension]."
        ),
        sample_rows: int = typer.Option(
            200_000,
            "--sample-rows",
            min=1,
            help="Profile a uniform random sample of at most this many rows per dataset "
            "(drawn over the whole input, streamed).",
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the random sample (reproducible)."),
        max_clean_quarantine: float = typer.Option(
            0.001,
            "--max-clean-quarantine",
            min=0.0,
            max=1.0,
            help="A suggested rule that would quarantine more than this share of clean profiled "
            "rows is reported as a suspect and written commented out.",
        ),
        measure: bool = typer.Option(
            True,
            "--measure/--no-measure",
            help="Run each contract on all landing rows to count what every rule quarantines.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ) -> None:
        """Infer one contract per landing dataset: types, required fields, PII flags and (with
        --suggest-rules) robust rules with their evidence. The contracts pass `meshc check` and
        run as written."""
        from meshc.bootstrap import bootstrap

        with _Progress() as progress:
            result = bootstrap(
                landing,
                output,
                registry or output / "registry.yaml",
                suggest_rules=suggest_rules,
                domain=domain,
                system=system,
                format=fmt.value if fmt else None,
                sample_rows=sample_rows,
                measure=measure,
                progress=progress.message,
                seed=seed,
                max_clean_share=max_clean_quarantine,
                on_dataset=progress.dataset,
            )
        rows = [row for w in result.contracts for row in w.inferred.summary()]
        if as_json:
            typer.echo(json.dumps(_json(result, rows), indent=2, default=str))
        else:
            _table(result, rows)
        raise typer.Exit(0)


def _json(result: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "contracts": [
            {
                "ref": w.inferred.ref,
                "path": str(w.path),
                "profiled": w.inferred.sample.describe() if w.inferred.sample else None,
                "rows_in": w.inferred.rows_in,
                "rows_quarantined": w.inferred.rows_quarantined,
            }
            for w in result.contracts
        ],
        "registry": str(result.registry) if result.registry else None,
        "suggestions": [row for row in rows if not row["suspect"]],
        "suspects": [row for row in rows if row["suspect"]],
    }


def _table(result: Any, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from meshc.cli.output import stderr, stdout

    table = Table(title="bootstrap suggestions", show_lines=False)
    for header in ("contract", "column", "suggestion", "quarantines", "evidence"):
        table.add_column(header, overflow="fold")
    for row in rows:
        count = "-" if row["quarantines"] is None else f"{row['quarantines']:,}"
        rule = row["rule"] if row["applied"] else f"[dim]note: {row['kind']}[/dim]"
        if row["suspect"]:
            rule = f"[yellow]suspect (not written):[/yellow] {row['rule']}"
        table.add_row(row["contract"], row["column"], rule, count, row["evidence"])
    stdout().print(table)
    err = stderr()
    for w in result.contracts:
        inferred = w.inferred
        measured = (
            ""
            if inferred.rows_in is None
            else f": {inferred.rows_quarantined:,} of {inferred.rows_in:,} landing rows quarantined"
        )
        err.print(f"wrote {w.path} ({inferred.ref}){measured}")
    if result.registry:
        err.print(f"wrote {result.registry}")


class _Progress:
    """A rich progress bar over datasets on stderr, with the current stage as its text."""

    def __enter__(self) -> _Progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from meshc.cli.output import stderr

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=stderr(),
            transient=True,
        )
        self._bar.__enter__()
        self._task = self._bar.add_task("bootstrap", total=None)
        return self

    def dataset(self, index: int, total: int, name: str) -> None:
        self._bar.update(self._task, total=total, completed=index, description=name)

    def message(self, text: str) -> None:
        self._bar.update(self._task, description=text)

    def __exit__(self, *exc: object) -> None:
        self._bar.update(self._task, completed=self._bar.tasks[0].total or 0)
        self._bar.__exit__(*exc)  # type: ignore[arg-type]
