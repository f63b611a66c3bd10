"""Writing bootstrapped contracts and the registry as readable, schema-annotated YAML."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

CONTRACT_SCHEMA = "contract.schema.json"


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps key order and comments
    yaml.default_flow_style = False
    yaml.width = 4096  # one rule, one line: long descriptions are not folded
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def to_commented(value: Any) -> Any:
    """Plain dicts and lists as ruamel's round-trip types (block style)."""
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = to_commented(v)
        return out
    if isinstance(value, (list, tuple)):
        return CommentedSeq(to_commented(v) for v in value)
    return value


def flow(seq: Sequence[Any]) -> CommentedSeq:
    """A short list on one line (`columns: [order_id]`)."""
    out = CommentedSeq(seq)
    out.fa.set_flow_style()
    return out


def schema_reference(directory: Path | None, name: str) -> str:
    """`$schema` for the yaml-language-server line, relative to the contract's folder as the
    README documents it: the `schemas/<name>` found in `directory` or a folder above it, else
    `schemas/<name>` beside the contract (`ship_schema` writes that copy)."""
    if directory is not None:
        start = directory.resolve()
        for parent in (start, *start.parents):
            candidate = parent / "schemas" / name
            if candidate.is_file():
                return Path(os.path.relpath(candidate, start)).as_posix()
    return f"schemas/{name}"


def ship_schema(directory: Path, name: str) -> Path | None:
    """Write the package's copy of the JSON Schema to `directory/schemas/<name>` when the
    reference points there and nothing is there yet, so the reference always resolves."""
    from meshc.schema_validation import schema_text

    target = directory / "schemas" / name
    if schema_reference(directory, name) != f"schemas/{name}" or target.exists():
        return None
    return write_text(target, schema_text(name.removesuffix(".schema.json")))


def dump(document: CommentedMap, schema: str, header: Sequence[str] = ()) -> str:
    stream = io.StringIO()
    _yaml().dump(document, stream)
    lines = [f"# yaml-language-server: $schema={schema}", *(f"# {h}" for h in header)]
    return "\n".join(lines) + "\n" + stream.getvalue()


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_registry(path: Path, contract_paths: Sequence[Path]) -> Path:
    """The registry `meshc registry` generates for these contracts, byte for byte, so
    `meshc registry --check` passes on it: `schema_version: 1` and `contracts: [{ref, path,
    source, ...}]`, paths relative to the registry's folder (schemas/registry.schema.json)."""
    from meshc.loader import load_contract
    from meshc.registry import render_registry

    contracts = [load_contract(p, compile_rules=False) for p in contract_paths]
    return write_text(path, render_registry(contracts, path))


def relative_to(path: Path, base: Path) -> str:
    """`path` relative to `base` when possible (never climbing out of base's drive)."""
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def source_path(location: Path) -> str:
    """The contract's `source.path`: the landing path as given (meshc resolves relative sources
    against the working directory, where bootstrap was run). An absolute landing path below the
    working directory is made relative to it; one elsewhere stays as the user wrote it."""
    if not location.is_absolute():
        return location.as_posix()
    try:
        return location.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return location.as_posix()
