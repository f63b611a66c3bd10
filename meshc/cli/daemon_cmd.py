"""`meshc daemon start|status|stop`: the warm process behind `meshc check --daemon`
(meshc.cli.daemon). `check --daemon` starts one by itself; these commands are for scripts, CI
images and for stopping it."""

from __future__ import annotations

import time

import typer

_START_WAIT_S = 30.0


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The warm process behind `meshc check --daemon`: start, status, stop.",
        no_args_is_help=True,
    )

    @group.command("start")
    def start(
        idle_timeout: float = typer.Option(
            30.0, "--idle-timeout", min=0.0, help="Minutes without a check before it stops."
        ),
    ) -> None:
        """Start this meshc's daemon in the background; return once it answers."""
        from meshc.cli import daemon

        running = _ask_or_exit("status")
        if running is not None:
            typer.echo(f"meshc daemon already running (pid {running['pid']})")
            return
        process = daemon.start_in_background(round(idle_timeout * 60))
        deadline = time.monotonic() + _START_WAIT_S
        while time.monotonic() < deadline:
            answer = daemon.ask("status")
            if answer is not None:
                typer.echo(f"meshc daemon started (pid {answer['pid']}), {daemon.socket_path()}")
                return
            if process is not None and process.poll() not in (None, 0):
                break
            time.sleep(0.05)
        log = daemon.socket_path().with_suffix(".log")
        typer.echo(f"error: the meshc daemon did not start; see {log}", err=True)
        raise typer.Exit(2)

    @group.command("status")
    def status() -> None:
        """Whether this meshc's daemon runs: its pid, checks served, idle timeout. Exit 1 if not."""
        running = _ask_or_exit("status")
        if running is None:
            typer.echo("no meshc daemon is running")
            raise typer.Exit(1)
        typer.echo(
            f"meshc daemon running: pid {running['pid']}, {running['served']} checks served, "
            f"{running['running']} running, stops after "
            f"{running['idle_timeout_s'] / 60:g} idle minutes (meshc {running['meshc']})"
        )

    @group.command("stop")
    def stop() -> None:
        """Stop this meshc's daemon (checks already running finish)."""
        answer = _ask_or_exit("stop")
        typer.echo("meshc daemon stopped" if answer else "no meshc daemon is running")

    app.add_typer(group, name="daemon")


def _ask_or_exit(op: str) -> dict | None:
    """The running daemon's answer to `status` or `stop`, None if none runs; exit 2 when this
    platform or its socket folder cannot have one, or another user's process listens there."""
    from meshc.cli import daemon

    try:
        return daemon.ask(op)
    except daemon.DaemonUnavailable as exc:
        typer.echo(f"error: no meshc daemon here: {exc}", err=True)
        raise typer.Exit(2) from None
