"""Render contract diffs: text (rich), json, markdown (a pull request comment), junit and github.

Every function returns a string and prints nothing; the CLI decides where it goes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from meshc.evolution.changes import Change, ContractDiff

JSON_SCHEMA_VERSION = 1
FORMATS = ("text", "json", "markdown", "junit", "github")


def render(diffs: Sequence[ContractDiff], fmt: str, *, color: bool = False) -> str:
    """Dispatch on one of FORMATS."""
    renderers = {"json": to_json, "markdown": to_markdown, "junit": to_junit, "github": to_github}
    if fmt == "text":
        return to_text(diffs, color=color)
    return renderers[fmt](diffs)


def _versions(d: ContractDiff) -> str:
    old = d.old.info.version if d.old else "-"
    new = d.new.info.version if d.new else "-"
    return f"{old} -> {new}"


def _breaking_count(diffs: Sequence[ContractDiff]) -> int:
    return sum(len(d.breaking) for d in diffs)


def _sides(change: Change) -> str:
    return " and ".join(change.broken_sides) or "nobody"


def to_text(diffs: Sequence[ContractDiff], *, color: bool = False) -> str:
    from io import StringIO

    from rich.console import Console
    from rich.markup import escape as rich_escape

    buffer = StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, highlight=False, soft_wrap=True
    )
    for d in diffs:
        console.print(f"[bold]{d.ref}[/bold] {_versions(d)} [dim]({d.status})[/dim]")
        for c in d.changes:
            path, line, _ = d.location(c)
            mark = "[red]✗[/red]" if c.breaking else "[green]•[/green]"
            verdict = f"[red]breaks {_sides(c)}[/red]" if c.breaking else "[dim]non-breaking[/dim]"
            direction = rich_escape(f"[{c.direction.value}]")
            console.print(
                f"  {mark} {rich_escape(c.describe())}  {direction} {verdict}"
                f"  [dim]{rich_escape(path)}:{line}[/dim]"
            )
    total = _breaking_count(diffs)
    changes = sum(len(d.changes) for d in diffs)
    if total:
        console.print(
            f"[red]✗[/red] {total} breaking change(s) of {changes} in {len(diffs)} contract(s)"
        )
    else:
        console.print(
            f"[green]✓[/green] no breaking changes ({changes} change(s) in "
            f"{len(diffs)} contract(s))"
        )
    return buffer.getvalue().rstrip("\n")


def to_json(diffs: Sequence[ContractDiff]) -> str:
    contracts = []
    for d in diffs:
        changes = []
        for c in d.changes:
            path, line, col = d.location(c)
            changes.append({**c.to_dict(), "path": path, "line": line, "col": col})
        contracts.append(
            {
                "ref": d.ref,
                "status": d.status,
                "old_path": d.old_label or (d.old.path if d.old else None),
                "new_path": d.new.path if d.new else None,
                "old_version": d.old.info.version if d.old else None,
                "new_version": d.new.info.version if d.new else None,
                "major_bumped": d.major_bumped,
                "breaking": len(d.breaking),
                "changes": changes,
            }
        )
    payload = {
        "schema_version": JSON_SCHEMA_VERSION,
        "breaking": _breaking_count(diffs),
        "contracts": contracts,
    }
    return json.dumps(payload, indent=2)


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(diffs: Sequence[ContractDiff]) -> str:
    """A pull request comment: a summary line, then one table per contract."""
    total = _breaking_count(diffs)
    lines = ["## meshc contract changes", ""]
    if total:
        lines.append(
            f":x: **{total} breaking change(s)** in "
            f"{sum(bool(d.breaking) for d in diffs)} contract(s)"
        )
    else:
        lines.append(":white_check_mark: No breaking changes")
    for d in diffs:
        bump = " (major version bumped)" if d.major_bumped else ""
        lines += ["", f"### `{d.ref}` {_versions(d).replace('->', '→')}: {d.status}{bump}", ""]
        if not d.changes:
            continue
        lines += [
            "| | Change | Direction | Consumers | Producers | Line |",
            "|---|---|---|---|---|---|",
        ]
        for c in d.changes:
            path, line, _ = d.location(c)
            icon = ":x:" if c.breaking else ":information_source:"
            lines.append(
                f"| {icon} | {_md(c.describe())} | {c.direction.value} | "
                f"{c.consumer.value} | {c.producer.value} | `{_md(path)}:{line}` |"
            )
    return "\n".join(lines)


def to_junit(diffs: Sequence[ContractDiff]) -> str:
    """One test case per contract; each breaking change is a failure."""
    failures = sum(bool(d.breaking) for d in diffs)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name="meshc diff" tests="{len(diffs)}" failures="{failures}">',
    ]
    for d in diffs:
        out.append(f'  <testcase classname="meshc diff" name={quoteattr(d.ref)}>')
        for c in d.breaking:
            path, line, _ = d.location(c)
            text = f"{path}:{line}: {c.describe()} breaks the {_sides(c)}"
            out.append(
                f"    <failure type={quoteattr(c.kind)} message={quoteattr(c.describe())}>"
                f"{escape(text)}</failure>"
            )
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out)


def to_github(diffs: Sequence[ContractDiff]) -> str:
    """GitHub workflow commands: an error per breaking change, a notice for the others."""
    lines = []
    for d in diffs:
        for c in d.changes:
            path, line, col = d.location(c)
            kind = "error" if c.breaking else "notice"
            msg = f"{d.ref}: {c.describe()}" + (f"; breaks the {_sides(c)}" if c.breaking else "")
            msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            lines.append(
                f"::{kind} file={path},line={line or 1},col={col or 1},title={c.kind}::{msg}"
            )
    return "\n".join(lines)
