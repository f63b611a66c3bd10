"""Refuse hostile YAML files before they are read or composed (issue #12, item 13).

A contract is untrusted input. Three things could exhaust memory or hang `meshc check` before any
validation runs, so each is refused with a located diagnostic:
- MC006: a path that is not a regular file (FIFO: `open` blocks forever; `/dev/zero`: endless);
- MC005: a file larger than MAX_YAML_BYTES (read with a bound, so growing files are caught too);
- MC007: aliases that expand to more than MAX_ALIAS_EXPANSION nodes ("billion laughs": a few
  hundred bytes of nested anchors expand to billions of nodes when copied into plain data), or
  an alias inside the node it names (a cycle, which no plain data can hold);
- MC008: collections nested deeper than MAX_YAML_DEPTH (the composer and every later stage recurse).
The alias and depth checks run over ruamel's event stream, which is produced iteratively and holds
one event at a time: nothing is composed or expanded until the document is known to be safe.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from meshc.diagnostics import Diagnostic

MAX_YAML_BYTES = 1024 * 1024
"""1 MiB: contracts are a few KB; anything this big is generated or hostile."""

MAX_ALIAS_EXPANSION = 100_000
"""Nodes that aliases may add when expanded (the document's own nodes are bounded by its size)."""

MAX_YAML_DEPTH = 64
"""Nested mappings/sequences; a contract needs about 6."""

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class YamlRefused(Exception):
    """The file was refused before parsing; `diagnostic` says why and where."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def read_bounded(path: str | Path) -> bytes:
    """The bytes of a regular file no larger than MAX_YAML_BYTES; raises YamlRefused otherwise.

    OSError (missing file, permission) propagates for the caller to describe."""
    mode = os.stat(path).st_mode  # follows symlinks: a link to a FIFO is a FIFO
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise YamlRefused(
            Diagnostic(
                "MC006",
                f"not a regular file: {kind}",
                str(path),
                hint="pass a .yaml file (directories are searched only when given as arguments)",
            )
        )
    with open(path, "rb") as fh:
        data = fh.read(MAX_YAML_BYTES + 1)  # bounded even if the file grows while we read
    if len(data) > MAX_YAML_BYTES:
        raise YamlRefused(
            Diagnostic(
                "MC005",
                f"file too large: more than {MAX_YAML_BYTES // 1024} KiB (the limit is "
                f"{MAX_YAML_BYTES} bytes)",
                str(path),
                hint="a contract is a few KB; split it, or check that this is the right file",
            )
        )
    return data


def check_structure(text: str, path: str) -> None:
    """Refuse alias bombs and deep nesting by scanning parse events; YAML syntax errors are left
    to the loader, which reports them with their own location."""
    from ruamel.yaml import YAML
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        NodeEvent,
    )

    sizes: dict[str, int] = {}  # anchor -> expanded node count of the anchored node
    frames: list[tuple[str | None, int]] = []  # open collections: (anchor, nodes so far)
    added = 0  # nodes that aliases add when expanded
    for event in YAML(typ="rt").parse(text):
        if isinstance(event, CollectionEndEvent):
            anchor, size = frames.pop()
            _finish(frames, sizes, anchor, size)
        elif isinstance(event, AliasEvent):
            if any(anchor == event.anchor for anchor, _ in frames):  # `&a [*a]`: a cycle
                raise YamlRefused(_located(event, path, "MC007", _CYCLE, _ALIASES_HINT, text))
            size = sizes.get(str(event.anchor), 1)
            added += size
            if added > MAX_ALIAS_EXPANSION:
                raise YamlRefused(_located(event, path, "MC007", _ALIASES, _ALIASES_HINT, text))
            _finish(frames, sizes, None, size)
        elif isinstance(event, CollectionStartEvent):
            if len(frames) >= MAX_YAML_DEPTH:
                raise YamlRefused(_located(event, path, "MC008", _DEEP, _DEEP_HINT, text))
            frames.append((event.anchor, 1))
        elif isinstance(event, NodeEvent):  # a scalar
            _finish(frames, sizes, event.anchor, 1)


_ALIASES = f"too many YAML aliases: they expand to more than {MAX_ALIAS_EXPANSION} nodes"
_CYCLE = "recursive YAML alias: it refers to a node that contains it"
_ALIASES_HINT = "use fewer anchors/aliases (*name); write the values out"
_DEEP = f"YAML nested too deeply: more than {MAX_YAML_DEPTH} levels of mappings or sequences"
_DEEP_HINT = "a contract needs only a few levels; check the brackets and indentation"


def _finish(
    frames: list[tuple[str | None, int]], sizes: dict[str, int], anchor: str | None, size: int
) -> None:
    if anchor is not None:
        sizes[str(anchor)] = size
    if frames:
        parent_anchor, parent_size = frames[-1]
        frames[-1] = (parent_anchor, parent_size + size)


def _located(event: object, path: str, code: str, message: str, hint: str, text: str) -> Diagnostic:
    mark = getattr(event, "start_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    lines = text.splitlines()
    source = lines[line - 1] if 0 < line <= len(lines) else None
    return Diagnostic(code, message, path, line, col, hint=hint, source_line=source)
