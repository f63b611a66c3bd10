"""Progress on long runs: the runner reports each stage boundary as one short line.

The runner calls a `Progress` callback (any `Callable[[str], None]`) with the lines `step` makes:
`read: 3 csv file(s) from landing/`, `validate: 1,204,331 rows read, 1,203,100 valid`, `write: ...`,
`commit: ...`. It prints nothing itself; the CLI shows the lines as a live status on a terminal and
as timestamped log lines on stderr otherwise (meshc/cli/output.py), and `--quiet` drops them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

Progress = Callable[[str], None]
Stage = Literal["read", "validate", "write", "commit"]


def step(stage: Stage, detail: str) -> str:
    """The line a stage boundary reports: its stage first, so logs can be grepped by stage."""
    return f"{stage}: {detail}"


def rows_line(rows_in: int, valid: int, quarantined: int) -> str:
    return f"{rows_in:,} rows read, {valid:,} valid, {quarantined:,} quarantined"


def silent(_line: str) -> None:
    """The callback when nobody listens (library calls, `--quiet`)."""
