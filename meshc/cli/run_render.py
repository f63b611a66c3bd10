"""Render a run report in the terminal (rich) or as JUnit XML."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr


def render_text(
    report: dict[str, Any], show_quarantine: bool, quarantine_rows: list[dict[str, Any]]
) -> None:
    from rich.console import Console
    from rich.markup import escape as esc
    from rich.table import Table

    console = Console(highlight=False)
    rows = report["rows"]
    status = "[green]OK[/green]" if report["status"] == "ok" else "[red]FAILED[/red]"
    console.print(
        f"[bold]{esc(report['contract']['ref'])}[/bold] v{report['contract']['version']} "
        f"on [cyan]{report['engine']}[/cyan] from {esc(report['source'])}: {status}"
    )
    console.print(
        f"  rows in {rows['in']:,} · valid {rows['valid']:,} · quarantined {rows['quarantined']:,}"
        f" · pass rate {report['pass_rate']:.2%} · {report['elapsed_seconds']:.2f}s"
    )
    if report.get("validator", "native") != "native":
        native = report.get("validator_native_checks") or []
        console.print(
            f"  judged by the compiled [cyan]{report['validator']}[/cyan] artifacts"
            + (f"; natively (not expressible there): {esc(', '.join(native))}" if native else "")
        )
    table = Table(
        "rule",
        "kind",
        "severity",
        "failures",
        "definition",
        title="row checks",
        title_justify="left",
    )
    for r in report["rules"]:
        table.add_row(esc(r["id"]), r["kind"], r["severity"], _failures_cell(r), esc(r["rule"]))
    console.print(table)
    for w in report.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {esc(w['id'])} {esc(w['message'])}")
    if report["dataset_rules"]:
        ds = Table(
            "dataset rule",
            "severity",
            "result",
            "observed",
            title="dataset checks",
            title_justify="left",
        )
        for r in report["dataset_rules"]:
            mark = "[green]pass[/green]" if r["passed"] else "[red]fail[/red]"
            ds.add_row(esc(r["id"]), r["severity"], mark, esc(r["message"]))
        console.print(ds)
    shown = quarantine_rows if show_quarantine else report["samples"]
    if shown:
        title = (
            "quarantined rows"
            if show_quarantine
            else f"sample quarantined rows (first {len(shown)})"
        )
        console.print(_quarantine_table(shown, title))
    for key, path in report["outputs"].items():
        if path:
            console.print(f"  {key} → {esc(path)}")


def _failures_cell(rule: dict[str, Any]) -> str:
    if rule["failures"] is None:  # not evaluated: never shown as a pass
        return "[yellow]not evaluated[/yellow]"
    failures = rule["failures"]
    color = (
        "red" if failures and rule["severity"] == "error" else ("yellow" if failures else "green")
    )
    return f"[{color}]{failures:,}[/{color}]"


def _quarantine_table(rows: list[dict[str, Any]], title: str) -> Any:
    from rich.markup import escape as esc
    from rich.table import Table

    data_cols = [k for k in rows[0] if not k.startswith("_meshc")]
    table = Table(*data_cols, "reasons", title=title, title_justify="left")
    for row in rows:
        reasons = row.get("_meshc_reasons") or []
        text = "; ".join(
            f"{r['rule_id']}: {r['message']}"
            + (f" (value {r['value']!r})" if r.get("value") is not None else "")
            for r in reasons
        )
        table.add_row(*[esc("∅" if row[c] is None else str(row[c])) for c in data_cols], esc(text))
    return table


def render_junit(report: dict[str, Any]) -> str:
    name = report["contract"]["ref"]
    cases = []
    for r in report["rules"]:
        failed = r["failures"] is not None and r["failures"] > 0 and r["severity"] == "error"
        body = (
            f"<failure message={quoteattr(str(r['failures']) + ' rows failed')}>"
            f"{escape(r['rule'])}</failure>"
            if failed
            else ""
        )
        if r["failures"] is None:
            body = f"<skipped message={quoteattr(r.get('reason') or 'not evaluated')}/>"
        cases.append(
            f"  <testcase classname={quoteattr(name)} name={quoteattr(r['id'])}>{body}</testcase>"
        )
    for r in report["dataset_rules"]:
        failed = not r["passed"] and r["severity"] == "error"
        body = (
            f"<failure message={quoteattr(r['message'])}>{escape(r['rule'])}</failure>"
            if failed
            else ""
        )
        cases.append(
            f"  <testcase classname={quoteattr(name)} name={quoteattr(r['id'])}>{body}</testcase>"
        )
    failures = sum("<failure" in c for c in cases)
    skipped = sum("<skipped" in c for c in cases)
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<testsuite name={quoteattr("meshc run " + name)} tests="{len(cases)}" '
            f'failures="{failures}" skipped="{skipped}">',
            *cases,
            "</testsuite>",
        ]
    )


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, default=str)
