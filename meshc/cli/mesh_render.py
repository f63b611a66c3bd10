"""What `meshc mesh` prints: the data-product table (text), or the CI formats of meshc run's
reports (meshc/cli/run_render.py) over every product."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from meshc.cli.run_render import Outcome, render_github, render_junit, render_markdown
from meshc.mesh.run import ProductStatus

_TRUST = {"trusted": "green", "degraded": "yellow", "failed": "red", "error": "red"}


def outcomes(statuses: Sequence[ProductStatus]) -> list[Outcome]:
    return [
        Outcome(
            s.ref,
            s.engine,
            s.trust,
            s.result.run_report if s.result is not None else None,
            s.error,
        )
        for s in statuses
    ]


def emit_mesh(statuses: Sequence[ProductStatus], fmt: str, title: str = "data products") -> None:
    """Print the mesh run in `fmt` (text, json, junit, github, markdown); markdown is also
    appended to $GITHUB_STEP_SUMMARY when set."""
    import typer

    from meshc.cli.output import append_step_summary

    if fmt == "text":
        render_products(statuses, title=title)
    elif fmt == "json":
        typer.echo(render_json(statuses))
    elif fmt == "junit":
        typer.echo(render_junit(outcomes(statuses), name="meshc mesh"))
    else:
        text = render_markdown(outcomes(statuses), title=f"meshc mesh · {title}")
        if fmt == "github":  # in a workflow, the summary comes with the annotations
            typer.echo(render_github(outcomes(statuses), label="meshc mesh"))
        else:
            typer.echo(text, nl=False)
        append_step_summary(text)


def render_json(statuses: Sequence[ProductStatus]) -> str:
    """Every product's trust and run report (schemas/run-report.schema.json), or its error."""
    products = [
        {
            "ref": o.ref,
            "engine": o.engine,
            "trust": o.status,
            "error": o.error,
            "report": o.report.to_dict() if o.report is not None else None,
        }
        for o in outcomes(statuses)
    ]
    return json.dumps({"products": products}, indent=2, default=str)


def render_products(statuses: Sequence[ProductStatus], title: str = "data products") -> None:
    from rich.markup import escape
    from rich.table import Table

    from meshc.cli.output import report_console, table_box

    console = report_console()  # not a terminal: never squeezed into 80 columns
    table = Table(
        "domain",
        "data product",
        "engine",
        "rows",
        "valid",
        "quarantined",
        "pass rate",
        "freshness",
        "last run",
        "trust",
        title=title,
        title_justify="left",
        box=table_box(console),
    )
    now = dt.datetime.now(dt.timezone.utc).strftime("%H:%M:%SZ")
    for s in statuses:
        color = _TRUST[s.trust]
        trust = f"[{color}]{s.trust}[/{color}]"
        name = s.ref.split(".", 1)[1]
        if s.result is None:
            table.add_row(s.domain, name, s.engine, "-", "-", "-", "-", "-", "-", trust)
            continue
        r = s.result
        table.add_row(
            s.domain,
            name,
            s.engine,
            f"{r.rows_in:,}",
            f"{r.rows_valid:,}",
            f"{r.rows_quarantined:,}",
            f"{r.pass_rate:.1%}",
            s.freshness,
            now,
            trust,
        )
    console.print(table)
    for s in statuses:
        if s.error:
            console.print(f"[red]{escape(s.ref)}[/red]: {escape(s.error)}")
        elif s.result is not None and s.result.run_report is not None:
            for reason in s.result.run_report.failed_because:
                console.print(f"[red]{escape(s.ref)}[/red]: {escape(reason.message)}")
