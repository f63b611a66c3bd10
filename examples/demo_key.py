"""The examples' masking key: `masking: hash` is a keyed hash (HMAC-SHA256) and meshc refuses to
run it without a key (see docs/governance.md).

This key is PUBLIC (it is in the repository): it only makes the demo run. For real data, make a
secret key with `python -c "import secrets; print(secrets.token_hex(32))"`, keep it in your secret
store and hand it to meshc as MESHC_MASKING_KEY or MESHC_MASKING_KEY_FILE.
"""

from __future__ import annotations

import os

DEMO_MASKING_KEY = "meshc-demo-masking-key-PUBLIC-not-for-real-data"


def use_demo_masking_key() -> None:
    """Use the demo key unless a key is configured already (an exported one always wins)."""
    if not (os.environ.get("MESHC_MASKING_KEY") or os.environ.get("MESHC_MASKING_KEY_FILE")):
        os.environ["MESHC_MASKING_KEY"] = DEMO_MASKING_KEY
