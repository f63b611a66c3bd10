"""Shared CLI output helpers: formats, consoles (machine output on stdout, the rest on stderr)."""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

from meshc.diagnostics import Diagnostic, Severity, sort_key


def echo(message: str, *, err: bool = False) -> None:
    """Print one line as typer.echo (click's echo) does, without importing typer: the `meshc
    check` fast path (meshc.cli.check_fast) prints with it. ANSI codes are removed when the
    stream is no terminal, an ASCII-only stream gets UTF-8, and the line is flushed."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    text = message + "\n"
    if not _isatty(stream):
        text = _ANSI.sub("", text)
    encoding = getattr(stream, "encoding", None) or "ascii"
    buffer = getattr(stream, "buffer", None)
    if buffer is not None and codecs.lookup(encoding).name == "ascii":
        stream.flush()
        buffer.write(text.encode("utf-8", "replace"))
        buffer.flush()
        return
    stream.write(text)
    stream.flush()


_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")  # click's pattern


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except Exception:  # a closed or exotic stream, as click treats it
        return False


def _plain_stdout() -> bool:
    """stdout is no terminal and nothing asks rich for colour or terminal codes there."""
    forcing = ("FORCE_COLOR", "TTY_COMPATIBLE")
    return not _isatty(sys.stdout) and not any(os.environ.get(name) for name in forcing)


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


# A console that is not a terminal (a CI log, a pipe, a file) never wraps: tables keep their full
# width and rule ids and paths stay whole, whatever $COLUMNS says.
UNWRAPPED_WIDTH = 100_000


def report_console() -> Any:
    """stdout for reports: the terminal's width on a TTY, unwrapped plain text otherwise."""
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    if console.is_terminal:
        return console
    return Console(highlight=False, soft_wrap=True, width=UNWRAPPED_WIDTH, no_color=True)


def table_box(console: Any) -> Any:
    """Box characters on a terminal, plain ASCII in logs."""
    from rich import box

    return box.HEAVY_HEAD if console.is_terminal else box.ASCII


@contextlib.contextmanager
def progress_reporter(label: str, quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """The runner's progress callback (meshc.runner.progress): a live status line on a terminal,
    timestamped log lines on stderr otherwise (a long CI run shows where it is), nothing when
    quiet."""
    if quiet:
        yield lambda _line: None
        return
    err = stderr()
    if err.is_terminal:
        from rich.markup import escape

        with err.status(f"{label}: starting", spinner="dots") as status:
            yield lambda line: status.update(f"{label}: {escape(line)}")
        return
    import typer

    def log(line: str) -> None:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        typer.echo(f"{stamp} {label}: {line}", err=True)

    yield log


def append_step_summary(markdown: str) -> Path | None:
    """Append to the GitHub Actions job summary when $GITHUB_STEP_SUMMARY names a file."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(markdown.rstrip("\n") + "\n\n")
    except OSError as exc:  # the report is printed all the same; the run's verdict stands
        import typer

        why = exc.strerror or str(exc)
        typer.echo(f"warning: cannot append the job summary to {target}: {why}", err=True)
        return None
    return path


def render_diagnostics_text(diagnostics: Sequence[Diagnostic], files: int) -> None:
    if not diagnostics and _plain_stdout():
        # rich would print exactly this (no terminal: no colour); importing it is a good part
        # of a clean `meshc check` in a pre-commit hook
        echo(f"✓ {files} contract(s) OK")
        return
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
