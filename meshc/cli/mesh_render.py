"""The data-product table printed after a mesh run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from meshc.mesh.run import ProductStatus

_TRUST = {"trusted": "green", "degraded": "yellow", "failed": "red", "error": "red"}


def render_products(statuses: Sequence[ProductStatus], title: str = "data products") -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

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
    console = Console(highlight=False)
    if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        console = Console(highlight=False, width=120)
    console.print(table)
    for s in statuses:
        if s.error:
            console.print(f"[red]{escape(s.ref)}[/red]: {escape(s.error)}")
        elif s.result is not None and not s.result.ok:
            for d in s.result.failed_dataset_rules:
                what = f"dataset rule {escape(d.id)} failed: {escape(d.message)}"
                console.print(f"[red]{escape(s.ref)}[/red]: {what}")
