"""ODCS documents as files: read one (located, refused when it is not ODCS v3), check one against
the standard's JSON Schema, write one as YAML."""

from __future__ import annotations

import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from meshc.errors import ContractError
from meshc.located_yaml import Locator, load_yaml_file
from meshc.odcs.detect import is_v3, odcs_api_version
from meshc.odcs.mapping import OdcsUnavailable, jpath_text

_MAX_MESSAGE = 160  # jsonschema quotes whole instances in some messages


@lru_cache(maxsize=1)
def official_schema() -> dict[str, Any]:
    """The JSON Schema shipped by the `open-data-contract-standard` package."""
    from importlib import resources

    try:
        text = resources.files("open_data_contract_standard").joinpath("schema.json").read_text()
    except ModuleNotFoundError:
        raise OdcsUnavailable() from None
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_errors(document: Any) -> list[tuple[tuple[Any, ...], str]]:
    """(JSON path, message) for every violation of the ODCS JSON Schema; empty when valid."""
    from jsonschema import validators

    schema = official_schema()
    validator = validators.validator_for(schema)(schema)
    seen: set[tuple[tuple[Any, ...], str]] = set()
    out = []
    for error in validator.iter_errors(document):
        message = error.message
        if len(message) > _MAX_MESSAGE:
            message = message[: _MAX_MESSAGE - 3] + "..."
        item = (tuple(error.absolute_path), message)
        if item not in seen:
            seen.add(item)
            out.append(item)
    return sorted(out, key=lambda e: [str(p) for p in e[0]])


def load_odcs_file(path: str | Path) -> tuple[dict[str, Any], Locator]:
    """An ODCS v3 document and its Locator; ContractError (located MC00x/MC009) otherwise."""
    data, locator = load_yaml_file(path)
    return _checked(data, locator), locator


def _checked(data: Any, locator: Locator) -> dict[str, Any]:
    version = odcs_api_version(data)
    if version is None:
        meshc = isinstance(data, dict) and "info" in data and "model" in data
        raise ContractError(
            [
                locator.diagnostic(
                    "MC009",
                    "not an ODCS data contract: it has no `kind: DataContract` and `apiVersion`",
                    (),
                    hint="this looks like a meshc contract already; `meshc check` it"
                    if meshc
                    else "an ODCS v3 file starts with `apiVersion: v3.x.y` and "
                    "`kind: DataContract`",
                )
            ]
        )
    if not is_v3(version):
        raise ContractError(
            [
                locator.diagnostic(
                    "MC009",
                    f"apiVersion {version} is not ODCS v3; meshc imports ODCS v3",
                    ("apiVersion",),
                    hint="ODCS v3 writes it with a v: `apiVersion: v3.x.y` (e.g. v3.1.0)"
                    if version.startswith("3")
                    else "upgrade the contract to ODCS v3 first",
                )
            ]
        )
    assert isinstance(data, dict)  # odcs_api_version found keys in it
    problems = [
        locator.diagnostic(
            "MC009",
            f"not valid ODCS {version}: {message} at {jpath_text(jpath)}",
            jpath,
            hint="fix the file against the ODCS v3 JSON Schema",
        )
        for jpath, message in schema_errors(data)
    ]
    if problems:
        raise ContractError(problems)
    return data


def dump_yaml(document: Any, header: tuple[str, ...] = ()) -> str:
    """YAML in block style, keys in the order given, long strings on one line."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    yaml.dump(_block(document), stream)
    return "".join(f"# {line}\n" for line in header) + stream.getvalue()


def _block(value: Any) -> Any:
    """Plain data as ruamel's round-trip types, so dicts keep their order; short lists of
    scalars (tags, accepted values, key columns) on one line."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict):
        out = CommentedMap()
        for key, item in value.items():
            out[key] = _block(item)
        return out
    if isinstance(value, (list, tuple)):
        seq = CommentedSeq(_block(v) for v in value)
        if value and all(isinstance(v, (str, int, float, bool)) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value
