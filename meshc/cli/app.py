"""The `meshc` command: a thin typer app; each command lives in its own module.

Exit codes, for every command: 0 clean, 1 findings (invalid contracts, failed thresholds or
dataset rules, stale artifacts), 2 usage or internal error.

The typer app is built when first used (`from meshc.cli.app import app` builds it): a plain
`meshc check ...` line, the pre-commit hook, runs without typer (meshc.cli.check_fast).
"""

from __future__ import annotations

import sys
from typing import Any

_built: list[Any] = []  # the typer app, once built


def __getattr__(name: str) -> Any:
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _app() -> Any:
    if not _built:
        _built.append(_build())
    return _built[0]


def _build() -> Any:
    import typer

    from meshc import __version__

    app = typer.Typer(
        name="meshc",
        help="Data contracts for data-mesh teams: check, compile and enforce them on any engine.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    def _version(value: bool) -> None:
        if value:
            typer.echo(f"meshc {__version__}")
            raise typer.Exit(0)

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ) -> None:
        """meshc: one YAML contract, enforced identically on Polars, pandas, DuckDB and Spark."""

    _register(app)
    return app


def _register(app: Any) -> None:
    # One module per command; each imports its heavy dependencies inside the command function,
    # so registering them all keeps `meshc check` free of engine imports.
    from meshc.cli import (
        bootstrap_cmd,
        check_cmd,
        compile_cmd,
        daemon_cmd,
        diff_cmd,
        docs_cmd,
        mesh_cmd,
        odcs_cmd,
        registry_cmd,
        run_cmd,
        schema_cmd,
    )

    for module in (
        check_cmd,
        run_cmd,
        compile_cmd,
        diff_cmd,
        mesh_cmd,
        docs_cmd,
        registry_cmd,
        bootstrap_cmd,
        odcs_cmd,
        schema_cmd,
        daemon_cmd,
    ):
        module.register(app)


def _served_by_daemon(argv: list[str]) -> list[str]:
    """`meshc check --daemon ...`: the daemon's exit code (the client imports nothing else);
    the line without the flag when no daemon can serve, to check in-process."""
    if "--daemon" not in argv:
        return argv
    from meshc.cli import daemon

    line = daemon.check_line(argv)
    if line is None:
        return argv
    code = daemon.run_check(line)
    if code is not None:
        sys.exit(code)
    return line


def main() -> None:
    """Console entry point. typer handles usage errors (exit 2); meshc errors and unexpected
    exceptions become one clear line on stderr and exit 2, never a traceback."""
    import os

    from meshc.cli import check_fast
    from meshc.cli.output import echo
    from meshc.cli.signals import sigterm_exits
    from meshc.errors import MeshcError

    try:
        with sigterm_exits():  # SIGTERM: cleanup runs, exit 143
            argv = _served_by_daemon(sys.argv[1:])
            code = check_fast.run(argv)  # a plain `meshc check` line, without typer
            if code is not None:
                sys.exit(code)
            _app()(args=argv)
    except MeshcError as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the CLI's last line of defence
        if os.environ.get("MESHC_DEBUG"):
            raise
        echo(
            f"internal error: {type(exc).__name__}: {exc} "
            "(please report this; set MESHC_DEBUG=1 for a traceback)",
            err=True,
        )
        sys.exit(2)
