"""Shared CLI output helpers: formats, consoles (machine output on stdout, the rest on stderr)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from meshc.diagnostics import Diagnostic, Severity, sort_key


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    junit = "junit"
    github = "github"


def stdout():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def render_diagnostics_text(diagnostics: Sequence[Diagnostic], files: int) -> None:
    from rich.markup import escape

    console = stdout()
    for d in sorted(diagnostics, key=sort_key):
        color = "red" if d.severity is Severity.ERROR else "yellow"
        console.print(
            f"[bold]{escape(d.location())}[/bold]: [{color}]{d.code}[/{color}] {escape(d.message)}"
        )
        if d.source_line is not None:
            console.print(f"  [dim]{d.line:>4} |[/dim] {escape(d.source_line)}")
            console.print(
                "  [dim]     |[/dim] " + " " * max(d.col - 1, 0) + f"[{color}]^[/{color}]"
            )
        if d.hint:
            console.print(f"  [cyan]hint:[/cyan] {escape(d.hint)}")
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    if errors:
        console.print(f"[red]✗[/red] {errors} error(s), {warnings} warning(s) in {files} file(s)")
    else:
        console.print(
            f"[green]✓[/green] {files} contract(s) OK"
            + (f", {warnings} warning(s)" if warnings else "")
        )
