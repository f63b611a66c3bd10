"""Render run reports: terminal text (rich), JSON, JUnit XML, GitHub annotations, Markdown.

Every renderer takes the typed report (meshc.runner.report.RunReport). The CI formats take a list
of `Outcome`s, so `meshc run` (one) and `meshc mesh` (many) print the same shapes. Two rules hold
in every format: a failed run says why (the report's `failed_because`), and only what made the run
fail is a failure (JUnit `<failure>`, GitHub `::error`): rows quarantined by design are not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr as _xml_quoteattr

from meshc.runner.report import DatasetRuleOutcome, RuleOutcome, RunReport

if TYPE_CHECKING:
    from meshc.rules.checks import Origin
    from meshc.runner.result import RunResult


@dataclass(frozen=True)
class Outcome:
    """One data product's run for the CI formats: its report, or the error that stopped it."""

    ref: str
    engine: str
    status: str  # ok / failed (a run); trusted / degraded / failed / error (a mesh product)
    report: RunReport | None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "error")

    @classmethod
    def of(cls, report: RunReport) -> Outcome:
        return cls(report.contract.ref, report.engine, report.status, report)


# -- text -----------------------------------------------------------------------------------------
def render_text(
    report: RunReport, quarantine_rows: list[dict[str, Any]] | None = None, more: int = 0
) -> None:
    """`quarantine_rows`: the rows --show-quarantine prints (else the report's samples), `more`
    how many quarantined rows were left out (--limit)."""
    from rich.markup import escape as esc

    from meshc.cli.output import report_console

    console = report_console()
    rows = report.rows
    status = "[green]OK[/green]" if report.ok else "[red]FAILED[/red]"
    console.print(
        f"[bold]{esc(report.contract.ref)}[/bold] v{report.contract.version} "
        f"on [cyan]{report.engine}[/cyan] from {esc(report.source)}: {status}"
    )
    for reason in report.failed_because:
        console.print(f"  [red]failed:[/red] {esc(reason.message)}")
    console.print(
        f"  rows in {rows.rows_in:,} · valid {rows.valid:,} · quarantined {rows.quarantined:,}"
        f" · pass rate {report.pass_rate:.2%} · {report.elapsed_seconds:.2f}s"
    )
    if report.validator != "native":
        native = report.validator_native_checks or ()
        console.print(
            f"  judged by the compiled [cyan]{report.validator}[/cyan] artifacts"
            + (f"; natively (not expressible there): {esc(', '.join(native))}" if native else "")
        )
    console.print(_rules_table(report, console))
    for w in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {esc(w.id)} {esc(w.message)}")
    if report.dataset_rules:
        console.print(_dataset_table(report, console))
    shown = quarantine_rows if quarantine_rows is not None else list(report.samples)
    if shown:
        title = (
            "quarantined rows"
            if quarantine_rows is not None
            else f"sample quarantined rows (first {len(shown)})"
        )
        console.print(_quarantine_table(shown, title, console))
    if more:
        console.print(f"... and {more:,} more quarantined row(s) (--limit 0 shows all)")
    for key, path in (("valid", report.outputs.valid), ("quarantine", report.outputs.quarantine)):
        if path:
            console.print(f"  {key} → {esc(path)}")


def _rules_table(report: RunReport, console: Any) -> Any:
    from rich.markup import escape as esc
    from rich.table import Table

    from meshc.cli.output import table_box

    table = Table(
        "rule",
        "kind",
        "severity",
        "failures",
        "definition",
        title="row checks",
        title_justify="left",
        box=table_box(console),
    )
    for r in report.rules:
        table.add_row(esc(r.id), r.kind, r.severity, _failures_cell(r), esc(r.rule))
    return table


def _dataset_table(report: RunReport, console: Any) -> Any:
    from rich.markup import escape as esc
    from rich.table import Table

    from meshc.cli.output import table_box

    ds = Table(
        "dataset rule",
        "severity",
        "result",
        "observed",
        title="dataset checks",
        title_justify="left",
        box=table_box(console),
    )
    for d in report.dataset_rules:
        mark = "[green]pass[/green]" if d.passed else "[red]fail[/red]"
        ds.add_row(esc(d.id), d.severity, mark, esc(d.message))
    return ds


def _failures_cell(rule: RuleOutcome) -> str:
    if rule.failures is None:  # not evaluated: never shown as a pass
        return "[yellow]not evaluated[/yellow]"
    failures = rule.failures
    color = "red" if failures and rule.severity == "error" else ("yellow" if failures else "green")
    return f"[{color}]{failures:,}[/{color}]"


def _quarantine_table(rows: list[dict[str, Any]], title: str, console: Any) -> Any:
    from rich.markup import escape as esc
    from rich.table import Table

    from meshc.cli.output import table_box

    data_cols = [k for k in rows[0] if not k.startswith("_meshc")]
    table = Table(*data_cols, "reasons", title=title, title_justify="left", box=table_box(console))
    for row in rows:
        reasons = row.get("_meshc_reasons") or []
        text = "; ".join(
            f"{r['rule_id']}: {r['message']}"
            + (f" (value {r['value']!r})" if r.get("value") is not None else "")
            for r in reasons
        )
        table.add_row(*[esc("∅" if row[c] is None else str(row[c])) for c in data_cols], esc(text))
    return table


# -- JSON -----------------------------------------------------------------------------------------
def render_json(report: RunReport) -> str:
    return report.to_json()


# -- JUnit ----------------------------------------------------------------------------------------
def render_junit(outcomes: Sequence[Outcome], name: str = "meshc run") -> str:
    """One testsuite per data product. `<failure>` only for what failed the run (a threshold, an
    error-level dataset rule), so a run that exits 0 has none; quarantined rows and warn-level
    failures go to `<system-out>`, checks not evaluated are `<skipped>`."""
    suites = [_junit_suite(o) for o in outcomes]
    tests = sum(s[1] for s in suites)
    failures = sum(s[2] for s in suites)
    errors = sum(s[3] for s in suites)
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<testsuites name={quoteattr(name)} tests="{tests}" failures="{failures}" '
            f'errors="{errors}">',
            *(s[0] for s in suites),
            "</testsuites>",
        ]
    )


def _junit_suite(outcome: Outcome) -> tuple[str, int, int, int]:
    name = outcome.ref
    if outcome.report is None:
        case = _case(name, "run", f"<error message={quoteattr(outcome.error or 'error')}/>")
        return _suite(name, [case], failures=0, errors=1, skipped=0), 1, 0, 1
    report = outcome.report
    cases = [_row_case(name, r) for r in report.rules]
    failed_rules = {f.id for f in report.failed_because if f.kind == "dataset_rule"}
    cases += [_dataset_case(name, d, d.id in failed_rules) for d in report.dataset_rules]
    for reason in report.failed_because:
        if reason.kind == "threshold":
            body = f"<failure message={quoteattr(reason.message)}>{escape(_by_rule(report))}"
            cases.append(_case(name, reason.id, body + "</failure>"))
    failures = len(report.failed_because)
    skipped = sum(r.failures is None for r in report.rules)
    suite = _suite(name, cases, failures=failures, errors=0, skipped=skipped)
    return suite, len(cases), failures, 0


def _row_case(name: str, rule: RuleOutcome) -> str:
    if rule.failures is None:
        return _case(
            name, rule.id, f"<skipped message={quoteattr(rule.reason or 'not evaluated')}/>"
        )
    if not rule.failures:
        return _case(name, rule.id, "")
    what = "row(s) quarantined" if rule.severity == "error" else "row(s) failed (warn)"
    out = f"{rule.failures} {what} by {rule.id}: {rule.rule}"
    return _case(name, rule.id, f"<system-out>{escape(out)}</system-out>")


def _dataset_case(name: str, rule: DatasetRuleOutcome, failed_run: bool) -> str:
    if failed_run:
        message = f"{rule.id} failed: {rule.message} ({rule.rule})"
        body = f"<failure message={quoteattr(message)}>{escape(rule.rule)}</failure>"
    elif not rule.passed:
        body = f"<system-out>{escape(f'{rule.severity}: {rule.id} failed: {rule.message}')}"
        body += "</system-out>"
    else:
        body = ""
    return _case(name, rule.id, body)


def _case(classname: str, name: str, body: str) -> str:
    return (
        f"    <testcase classname={quoteattr(classname)} name={quoteattr(name)}>{body}</testcase>"
    )


def _suite(name: str, cases: list[str], *, failures: int, errors: int, skipped: int) -> str:
    head = (
        f'  <testsuite name={quoteattr("meshc run " + name)} tests="{len(cases)}" '
        f'failures="{failures}" errors="{errors}" skipped="{skipped}">'
    )
    return "\n".join([head, *cases, "  </testsuite>"])


# XML 1.0 forbids most control characters even escaped, and YAML escapes put them in contracts:
# written as `\x01`, so the JUnit file stays well-formed and still says what was there.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_chars(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def escape(text: str) -> str:
    return _xml_escape(_xml_chars(text))


def quoteattr(text: str) -> str:
    return _xml_quoteattr(_xml_chars(text))


def _by_rule(report: RunReport) -> str:
    """The quarantined rows by rule: what fed a quarantine threshold."""
    counts = [f"{r.id}: {r.failures}" for r in report.rules if r.failures and r.severity == "error"]
    return "quarantined by rule: " + (", ".join(counts) if counts else "none")


# -- GitHub Actions -------------------------------------------------------------------------------
def render_github(outcomes: Sequence[Outcome], label: str = "meshc run") -> str:
    """Workflow commands: `::error` (what failed the run, at the contract line that declares it),
    `::warning` (warn-level failures, checks not evaluated, the run's other warnings),
    `::notice` (rows quarantined by error-level rules on a run that passed), then one plain
    summary line per data product."""
    lines: list[str] = []
    for o in outcomes:
        lines += _annotations(o)
    for o in outcomes:  # one line each: an error's line break must not start a command line
        lines.append(" ".join(f"{label} {o.ref}: {_summary(o)}".split()))
    return "\n".join(lines)


def _annotations(o: Outcome) -> list[str]:
    title = f"meshc {o.ref}"
    if o.report is None:
        return [_command("error", f"{o.ref}: {o.error}", title, None, None)]
    report, path = o.report, o.report.contract.path
    out = [
        _command("error", f"{o.ref}: {f.message}", f"{title}: {f.id}", f.origin, path)
        for f in report.failed_because
    ]
    threshold_failed = any(f.kind == "threshold" for f in report.failed_because)
    for r in report.rules:
        if r.failures is None:
            msg = f"{r.id} not evaluated: {r.reason}"
            out.append(_command("warning", msg, title, r.origin, path))
        elif r.failures:
            level = (
                "warning" if r.severity == "warn" else ("error" if threshold_failed else "notice")
            )
            msg = f"{r.failures} row(s) failed {r.id} ({r.severity}): {r.rule}"
            out.append(_command(level, msg, f"{title}: {r.id}", r.origin, path))
    for d in report.dataset_rules:
        if not d.passed and d.severity == "warn":
            msg = f"{d.id} failed: {d.message} ({d.rule})"
            out.append(_command("warning", msg, f"{title}: {d.id}", d.origin, path))
    said = {r.id for r in report.rules if r.failures is None}  # not evaluated, said above
    for w in report.warnings:  # the run's own: an OpenLineage event not sent, ...
        if w.id not in said:
            msg = f"{w.id}: {w.message}"
            out.append(_command("warning", msg, f"{title}: {w.id}", None, path))
    return out


def _command(level: str, message: str, title: str, origin: Origin | None, path: str | None) -> str:
    """`::level file=F,line=L,title=T::message`, at the declaration when it is known."""
    props = []
    if origin is not None or path:
        props.append(f"file={_prop(origin.path if origin else str(path))}")
    if origin is not None and origin.line:
        props.append(f"line={origin.line}")
    props.append(f"title={_prop(title)}")
    return f"::{level} {','.join(props)}::{_data(message)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _summary(o: Outcome) -> str:
    if o.report is None:
        return f"{o.status.upper()} ({o.error})"
    r = o.report
    why = "; ".join(f.message for f in r.failed_because)
    return (
        f"{o.status.upper()}{f' ({why})' if why else ''}: {r.rows.rows_in:,} rows, "
        f"{r.rows.valid:,} valid, {r.rows.quarantined:,} quarantined, "
        f"pass rate {r.pass_rate:.2%}"
    )


# -- Markdown -------------------------------------------------------------------------------------
_ICON = {"ok": "✅", "trusted": "✅", "degraded": "⚠️", "failed": "❌", "error": "❌"}


def render_markdown(outcomes: Sequence[Outcome], title: str = "meshc run") -> str:
    """A job / pull-request summary: the datasets, why anything failed, the rules that failed."""
    failed = [o for o in outcomes if o.failed]
    verdict = f"❌ {len(failed)} of {len(outcomes)} failed" if failed else "✅ all passed"
    rows_in = sum(o.report.rows.rows_in for o in outcomes if o.report)
    valid = sum(o.report.rows.valid for o in outcomes if o.report)
    rate = f"{valid / rows_in:.2%}" if rows_in else "n/a"
    lines = [
        f"## {title}: {verdict}",
        "",
        f"{len(outcomes)} dataset(s) · {rows_in:,} rows · pass rate {rate}",
        "",
        "| dataset | engine | rows | valid | quarantined | pass rate | status |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    for o in outcomes:
        status = f"{_ICON.get(o.status, '')} {o.status}".strip()
        if o.report is None:
            lines.append(f"| `{_cell(o.ref)}` | {o.engine} | - | - | - | - | {status} |")
            continue
        r = o.report.rows
        lines.append(
            f"| `{_cell(o.ref)}` | {o.engine} | {r.rows_in:,} | {r.valid:,} | "
            f"{r.quarantined:,} | {o.report.pass_rate:.2%} | {status} |"
        )
    lines += _why_section(failed)
    lines += _rules_section(outcomes)
    return "\n".join(lines) + "\n"


def _why_section(failed: Sequence[Outcome]) -> list[str]:
    if not failed:
        return []
    lines = ["", "### Why it failed", ""]
    for o in failed:
        if o.report is None:
            lines.append(f"- `{_cell(o.ref)}`: {_cell(o.error or o.status)}")
        for f in o.report.failed_because if o.report else ():
            lines.append(f"- `{_cell(o.ref)}`: {_cell(f.message)}")
    return lines


def _rules_section(outcomes: Sequence[Outcome]) -> list[str]:
    rows = []
    for o in outcomes:
        if o.report is None:
            continue
        for r in o.report.rules:
            if r.failures:
                rows.append(
                    f"| `{_cell(o.ref)}` | `{_cell(r.id)}` | {r.severity} | {r.failures:,} "
                    f"| {_cell(r.rule)} |"
                )
        for d in o.report.dataset_rules:
            if not d.passed:
                rows.append(
                    f"| `{_cell(o.ref)}` | `{_cell(d.id)}` | {d.severity} | dataset rule "
                    f"| {_cell(d.message)} |"
                )
    if not rows:
        return []
    header = ["| dataset | rule | severity | failures | definition |", "|---|---|---|--:|---|"]
    if len(rows) <= _OPEN_ROWS:
        return ["", "### Failing rules", "", *header, *rows]
    fold = f"<details><summary>{len(rows)} rules with failures</summary>"
    return ["", "### Failing rules", "", fold, "", *header, *rows, "", "</details>"]


_OPEN_ROWS = 20  # a longer list of failing rules is folded, so the summary stays readable


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'")


# -- the `meshc run` output -----------------------------------------------------------------------
def emit_run(
    result: RunResult,
    fmt: str,
    *,
    fail_on: float | None = None,
    show_quarantine: bool = False,
    limit: int = 20,
) -> int:
    """Print the run's report in `fmt` and return the exit code (0 ok, 1 failed). `fail_on`: the
    --fail-on ratio, a failure reason like any other once exceeded; `limit`: the rows
    --show-quarantine prints (0: all)."""
    import typer

    from meshc.cli.output import append_step_summary
    from meshc.runner.report import FailureReason, threshold_message

    report = result.run_report
    assert report is not None, "the runner builds a report for every run"
    if fail_on is not None and result.quarantine_ratio > fail_on:
        message = threshold_message("--fail-on", fail_on, result.quarantine_ratio)
        report = report.failed_on(FailureReason("threshold", "--fail-on", message))
    outcomes = [Outcome.of(report)]
    if fmt == "json":
        typer.echo(render_json(report))
    elif fmt == "junit":
        typer.echo(render_junit(outcomes))
    elif fmt == "github":  # in a workflow, the summary comes with the annotations
        typer.echo(render_github(outcomes))
        append_step_summary(render_markdown(outcomes))
    elif fmt == "markdown":
        text = render_markdown(outcomes)
        typer.echo(text, nl=False)
        append_step_summary(text)
    else:
        rows, more = None, 0
        if show_quarantine:
            rows = quarantine_rows(result, limit)
            more = result.rows_quarantined - len(rows)
        render_text(report, rows, more)
    return 0 if report.ok else 1


def quarantine_rows(result: RunResult, limit: int) -> list[dict[str, Any]]:
    """The first `limit` quarantined rows (0: all), JSON-ready with their reasons. Read from the
    frame the run produced, as the report's samples are: `result.quarantine` would first make
    all of a streamed run's quarantine an in-memory frame, only for `limit` rows to be shown."""
    from meshc.runner.report import sample_quarantine

    assert result.engine_impl is not None
    wanted = result.rows_quarantined if limit <= 0 else min(limit, result.rows_quarantined)
    return sample_quarantine(result.engine_impl, result.quarantine_frame, wanted)
