"""The manifest: meshc version, contract hash, artifact hashes, and every gap, as JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from meshc.emit.model import Artifact, Gap

MANIFEST = "manifest.json"
SCHEMA_VERSION = 1


def sha256(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def render_manifest(
    contract_ref: str, contract_text: bytes, artifacts: Sequence[Artifact], gaps: Sequence[Gap]
) -> str:
    from meshc import __version__

    body = {
        "schema_version": SCHEMA_VERSION,
        "meshc_version": __version__,
        "contract": contract_ref,
        # line endings normalised, so a checkout with CRLF hashes the same
        "contract_sha256": sha256(contract_text.replace(b"\r\n", b"\n")),
        "artifacts": {a.name: sha256(a.text) for a in sorted(artifacts, key=lambda a: a.name)},
        "unsupported": [g.to_json() for g in gaps],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
