"""YAML loading that remembers where every key and value came from.

ruamel.yaml's round-trip loader records positions; we flatten them into a `Locator` keyed by
JSON path, then hand back plain dicts/lists so later stages never see ruamel types. A plain
document is read through libyaml instead (meshc.yaml_fast, several times faster), with the same
data and positions; anything else, errors included, takes the ruamel.yaml path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshc.diagnostics import Diagnostic
from meshc.errors import ContractError
from meshc.yaml_guard import YamlRefused, check_structure, read_bounded

JsonPath = tuple[str | int, ...]


@dataclass
class Locator:
    """Maps a JSON path to the 1-based (line, col) of its key (for mappings) or value."""

    path: str
    text: str
    keys: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    values: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)

    def key(self, jpath: JsonPath) -> tuple[int, int]:
        """Position of the key itself (best for 'unknown key' errors), else of the value."""
        return self.keys.get(jpath) or self.value(jpath)

    def value(self, jpath: JsonPath) -> tuple[int, int]:
        """Position of the value at jpath, walking up to the nearest located ancestor."""
        probe = tuple(jpath)
        while probe:
            if probe in self.values:
                return self.values[probe]
            if probe in self.keys:
                return self.keys[probe]
            probe = probe[:-1]
        return (1, 1)

    def line_text(self, line: int) -> str | None:
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else None

    def diagnostic(
        self,
        code: str,
        message: str,
        jpath: JsonPath,
        *,
        hint: str | None = None,
        at_key: bool = False,
        severity: Any = None,
    ) -> Diagnostic:
        line, col = self.key(jpath) if at_key else self.value(jpath)
        extra = {"severity": severity} if severity is not None else {}
        return Diagnostic(
            code,
            message,
            self.path,
            line,
            col,
            hint=hint,
            source_line=self.line_text(line),
            **extra,
        )


def load_yaml_text(text: str, path: str) -> tuple[Any, Locator]:
    """Parse YAML text into plain data plus a Locator; syntax errors become MC002."""
    from meshc.yaml_fast import load_plain

    fast = load_plain(text)  # libyaml, for the documents it reads exactly as ruamel.yaml does
    if fast is not None:
        data, keys, values = fast
        return data, Locator(path=path, text=text, keys=keys, values=values)
    return _load_with_ruamel(text, path)


def _load_with_ruamel(text: str, path: str) -> tuple[Any, Locator]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    yaml = YAML(typ="rt")
    locator = Locator(path=path, text=text)
    try:
        check_structure(text, path)  # alias bombs and deep nesting, before anything is composed
    except YamlRefused as exc:
        raise ContractError([exc.diagnostic]) from None
    except YAMLError:
        pass  # a syntax error: the load below reports it with its location
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        raise ContractError(
            [
                Diagnostic(
                    "MC002",
                    f"invalid YAML: {problem}",
                    path,
                    line,
                    col,
                    hint="check indentation and quoting on this line",
                    source_line=locator.line_text(line),
                )
            ]
        ) from None
    except ReaderError as exc:  # a control character YAML does not allow
        at = max(exc.position, 0)
        line = text.count("\n", 0, at) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise ContractError(
            [
                Diagnostic(
                    "MC002",
                    f"invalid YAML: character {char!r} is not allowed",
                    path,
                    line,
                    at - (text.rfind("\n", 0, at) + 1) + 1,
                    hint="remove control characters; YAML files are text",
                    source_line=locator.line_text(line),
                )
            ]
        ) from None
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. duplicate keys)
        raise ContractError([Diagnostic("MC002", f"invalid YAML: {exc}", path, 1, 1)]) from None
    return _plain(node, (), locator), locator


def load_yaml_file(path: str | Path) -> tuple[Any, Locator]:
    try:
        data = read_bounded(path)
    except YamlRefused as exc:
        raise ContractError([exc.diagnostic]) from None
    except FileNotFoundError:
        raise ContractError(
            [
                Diagnostic(
                    "MC001",
                    "file not found",
                    str(path),
                    hint="check the path, or run `meshc check` on a directory",
                )
            ]
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ContractError(
            [Diagnostic("MC001", f"cannot read file: {reason}", str(path))]
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ContractError(
            [
                Diagnostic(
                    "MC002",
                    f"invalid YAML: not UTF-8 text (byte {data[exc.start]:#04x})",
                    str(path),
                    line,
                    exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1,
                    hint="save the file as UTF-8",
                )
            ]
        ) from None
    return load_yaml_text(text, str(path))


def _plain(node: Any, jpath: JsonPath, loc: Locator) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key in node:
            child = (*jpath, str(key))
            try:
                kl, kc = node.lc.key(key)
                loc.keys[child] = (kl + 1, kc + 1)
                vl, vc = node.lc.value(key)
                loc.values[child] = (vl + 1, vc + 1)
            except (KeyError, TypeError):
                pass
            out[str(key)] = _plain(node[key], child, loc)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, item in enumerate(node):
            try:
                il, ic = node.lc.item(i)
                loc.values[(*jpath, i)] = (il + 1, ic + 1)
            except (KeyError, TypeError):
                pass
            items.append(_plain(item, (*jpath, i), loc))
        return items
    if isinstance(node, (dt.date, dt.datetime)):
        # YAML resolves unquoted dates; contracts speak ISO strings, so give them back as text.
        return node.isoformat()
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node
