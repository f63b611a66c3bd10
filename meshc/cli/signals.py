"""SIGTERM ends a command like an error does: cleanup code runs (staged outputs and spill folders
are removed, a commit in progress is completed) and the process exits with 143 (128 + SIGTERM).

A library may turn the SystemExit raised in the handler into its own error (DuckDB reports
"Query interrupted"), so the signal is also remembered and `sigterm_exits` makes the exit code 143
whatever the command did next."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

SIGTERM_EXIT = 128 + signal.SIGTERM
_received: list[int] = []


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit(143) so `finally` blocks and atexit handlers run."""
    signal.signal(signal.SIGTERM, _terminate)


@contextlib.contextmanager
def sigterm_exits() -> Iterator[None]:
    """Run a command with `exit_on_sigterm`; once SIGTERM arrived, the exit code is 143."""
    exit_on_sigterm()
    try:
        yield
    finally:
        if _received:
            raise SystemExit(SIGTERM_EXIT)


def _terminate(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise SystemExit(SIGTERM_EXIT)
