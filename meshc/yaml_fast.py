"""The fast path of `meshc.located_yaml`: a located load through libyaml, PyYAML's C parser.

`meshc check` runs in pre-commit hooks, and ruamel.yaml's pure-Python parser was most of its
time. Here libyaml parses the text and its events become the same plain data and the same
positions that the ruamel.yaml path builds. Only documents whose meaning the two parsers agree on
take this path; `load_plain` returns None, and the caller loads the text with ruamel.yaml exactly
as before, for anything else:
- a syntax error (libyaml's messages differ from ruamel's; ruamel's MC002 is the one reported),
- anchors and aliases (the alias-bomb and cycle checks of meshc.yaml_guard run on that path),
  tags, `%YAML`/`%TAG` directives, more than one document, nesting deeper than MAX_YAML_DEPTH,
- a key that is not a plain string, a duplicate key or a merge key (`<<`),
- a plain scalar whose value needs ruamel's constructor (a timestamp with a time, a number
  in hex, octal, binary, with `_` or an exponent, `.inf`, `=`),
- an empty value (`key:`; ruamel.yaml places it at the next token or comment),
- a tab, `|#` or `>#`, a block scalar that starts with blank lines (ruamel.yaml refuses some of
  each where libyaml does not), or NEL, LS or PS characters (line breaks for libyaml's YAML 1.1,
  not for YAML 1.2).
Plain scalars are resolved as ruamel.yaml resolves them (YAML 1.2, its `VersionedResolver`):
`tests/test_yaml_fast.py` compares both paths on every YAML file of the repository and on
generated documents.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from meshc.yaml_guard import MAX_YAML_DEPTH

JsonPath = tuple[str | int, ...]
Positions = dict[JsonPath, tuple[int, int]]

# NEL, LS, PS: line breaks for libyaml (YAML 1.1), not for ruamel.yaml (1.2); ruamel.yaml's scanner
# refuses a tab in places libyaml accepts
_NOT_HERE = ("\x85", "\u2028", "\u2029", "\t")
# `key: |#c`: libyaml reads a comment right after a block scalar's indicators, ruamel.yaml refuses
_BLOCK_HEADER_COMMENT = re.compile(r"[|>][-+0-9]*#")

# ruamel.yaml's YAML 1.2 implicit resolvers (ruamel/yaml/resolver.py), which pick a plain
# scalar's tag from its first character and then the first pattern that matches.
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = {"~", "null", "Null", "NULL", ""}
_FLOAT_12 = re.compile(
    r"""^(?:
     [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT_12 = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o?[0-7_]+
    |[-+]?[0-9_]+
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_TIMESTAMP = re.compile(
    r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
    (?:[Tt]|[ \t]+)[0-9][0-9]?
    :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
    (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
    re.X,
)
_NUMERIC_START = frozenset("-+0123456789.")
# the forms whose value is plainly Python's reading of the text; other numbers go to ruamel
_SIMPLE_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_SIMPLE_FLOAT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\.[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _Unsupported(Exception):
    """The document needs the ruamel.yaml path."""


def load_plain(text: str) -> tuple[Any, Positions, Positions] | None:
    """(data, key positions, value positions) as meshc.located_yaml builds them with ruamel.yaml,
    or None when the text must be loaded by ruamel.yaml (see the module docstring)."""
    try:
        from yaml import YAMLError
        from yaml._yaml import CParser
    except ImportError:  # PyYAML without libyaml: the ruamel.yaml path
        return None
    if any(ch in text for ch in _NOT_HERE) or _BLOCK_HEADER_COMMENT.search(text):
        return None
    try:
        return _compose(CParser(text))
    except (_Unsupported, YAMLError):
        return None


def _compose(parser: Any) -> tuple[Any, Positions, Positions]:
    """Build plain data from the event stream, iteratively (depth is bounded before it grows)."""
    keys: Positions = {}
    values: Positions = {}
    # open collections: [container, json path, pending key (mappings), next index (sequences)]
    stack: list[list[Any]] = []
    root: Any = None
    documents = 0
    while True:
        event = parser.get_event()
        kind = type(event).__name__
        if kind == "StreamEndEvent":
            return root, keys, values
        if kind in ("StreamStartEvent", "DocumentEndEvent"):
            continue
        if kind == "DocumentStartEvent":
            documents += 1
            if documents > 1 or event.version is not None or event.tags:
                raise _Unsupported
            continue
        if kind in ("MappingEndEvent", "SequenceEndEvent"):
            stack.pop()
            continue
        if kind == "AliasEvent" or event.anchor is not None or event.tag is not None:
            raise _Unsupported
        frame = stack[-1] if stack else None
        if frame is not None and isinstance(frame[0], dict) and frame[2] is None:
            frame[2] = _key(event, frame, keys)  # a mapping's key; its value comes next
            continue
        if kind == "ScalarEvent":
            if frame is not None and event.value == "" and event.style == "":
                raise _Unsupported  # ruamel places an empty value at the next token or comment
            node: Any = _scalar(event)
        elif kind in ("MappingStartEvent", "SequenceStartEvent"):
            if len(stack) >= MAX_YAML_DEPTH:
                raise _Unsupported  # refused with MC008 on the ruamel path
            node = {} if kind == "MappingStartEvent" else []
        else:
            raise _Unsupported
        jpath = _place(frame, node, event, values)
        if frame is None:
            root = node
        if isinstance(node, (dict, list)):
            stack.append([node, jpath, None, 0])


def _key(event: Any, frame: list[Any], keys: Positions) -> str:
    if type(event).__name__ != "ScalarEvent":
        raise _Unsupported  # a collection as a key
    value = event.value
    if event.style == "" and _resolve(value) is not str:
        raise _Unsupported  # a key that is not a string (or `<<`, a merge)
    if value in frame[0]:
        raise _Unsupported  # ruamel refuses duplicate keys with its own message
    mark = event.start_mark
    keys[(*frame[1], value)] = (mark.line + 1, mark.column + 1)
    return str(value)


def _place(frame: list[Any] | None, node: Any, event: Any, values: Positions) -> JsonPath:
    """Put `node` into the open collection; its json path."""
    if frame is None:
        return ()
    container, parent = frame[0], frame[1]
    if isinstance(container, dict):
        key = frame[2]
        container[key] = node
        frame[2] = None
        jpath: JsonPath = (*parent, key)
    else:
        jpath = (*parent, frame[3])
        container.append(node)
        frame[3] += 1
    mark = event.start_mark
    values[jpath] = (mark.line + 1, mark.column + 1)
    return jpath


def _scalar(event: Any) -> Any:
    value: str = event.value
    if event.style in ("|", ">") and value[:1] in ("", "\n"):
        raise _Unsupported  # leading blank lines: ruamel refuses some that libyaml reads
    if event.style != "":
        return value  # quoted or block: a string
    resolved = _resolve(value)
    if resolved is str:
        return value
    if resolved is bool:
        return _BOOL[value]
    if resolved is None:
        return None
    if resolved is int and _SIMPLE_INT.fullmatch(value):
        return int(value)
    if resolved is float and _SIMPLE_FLOAT.fullmatch(value):
        return float(value)
    if resolved is dt.date and _DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value).isoformat()  # plain data keeps dates as text
        except ValueError:
            raise _Unsupported from None  # `2024-13-01`: ruamel's own error
    raise _Unsupported


def _resolve(value: str) -> Any:
    """The Python type ruamel.yaml's YAML 1.2 resolver gives a plain scalar (None: null,
    dt.date: a timestamp, object: a merge key or `=`)."""
    first = value[:1]
    if first in "tTfF" and first and value in _BOOL:
        return bool
    if first in _NUMERIC_START and first:
        if _FLOAT_12.match(value):
            return float
        if _INT_12.match(value):
            return int
    if value == "<<" or value == "=":
        return object
    if value in _NULL:
        return None
    if first.isdigit() and first.isascii() and _TIMESTAMP.match(value):
        return dt.date
    return str
