"""The secret key of `masking: hash`, which is HMAC-SHA256 (RFC 2104), never a plain hash.

A plain SHA-256 of an SSN or an e-mail is reversed by hashing every candidate value; a keyed hash
is not, as long as the key stays secret. The key comes from the environment:

    MESHC_MASKING_KEY        the key itself (its UTF-8 bytes)
    MESHC_MASKING_KEY_FILE   a file holding the key (a secret mount); one trailing newline ignored

Digests are deterministic per key (joins on a masked column still work) and identical on every
engine. Without a key a run that needs `hash` fails before reading anything: there is no unkeyed
fallback. The key never appears in a report, a run record or an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from pathlib import Path

from meshc.errors import MeshcError

KEY_ENV = "MESHC_MASKING_KEY"
KEY_FILE_ENV = "MESHC_MASKING_KEY_FILE"
MIN_KEY_BYTES = 16  # shorter keys can themselves be brute-forced
_BLOCK = 64  # SHA-256's block size in bytes
_HOW = (
    f"set {KEY_ENV} to a secret, or {KEY_FILE_ENV} to a file holding it; make one with "
    '`python -c "import secrets; print(secrets.token_hex(32))"` and keep it in your secret store'
)


class MaskingKeyError(MeshcError):
    """`masking: hash` is needed but no usable key is configured."""


def masking_key() -> bytes:
    """The configured key; MaskingKeyError when none (or an unusable one) is configured."""
    value, path = os.environ.get(KEY_ENV), os.environ.get(KEY_FILE_ENV)
    if value and path:
        raise MaskingKeyError(f"both {KEY_ENV} and {KEY_FILE_ENV} are set: set only one")
    if path:
        key = _read_key_file(Path(path))
        source = f"the file named by {KEY_FILE_ENV}"
    elif value:
        key, source = value.encode("utf-8"), KEY_ENV
    else:
        raise MaskingKeyError(f"masking: hash needs a secret key: {_HOW}")
    if len(key) < MIN_KEY_BYTES:
        raise MaskingKeyError(
            f"the masking key from {source} is shorter than {MIN_KEY_BYTES} bytes: {_HOW}"
        )
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MaskingKeyError(
            f"cannot read the masking key file {path} ({exc.strerror or exc}): {_HOW}"
        ) from None
    for newline in (b"\r\n", b"\n"):  # as an editor or `echo` leaves it
        if data.endswith(newline):
            return data[: -len(newline)]
    return data


def keyed_hash(key: bytes, text: str) -> str:
    """Lower-case hex HMAC-SHA256 of the UTF-8 text: the reference every engine must match."""
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def keyed_hasher(key: bytes) -> Callable[[str], str]:
    """`keyed_hash` for many values under one key: the padded keys are hashed once and each value
    continues copies of those two states (about twice as fast as `hmac.new` per value)."""
    inner_pad, outer_pad = hmac_pads(key)
    inner_start, outer_start = hashlib.sha256(inner_pad), hashlib.sha256(outer_pad)

    def digest(text: str) -> str:
        inner = inner_start.copy()
        inner.update(text.encode("utf-8"))
        outer = outer_start.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    return digest


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer padded keys of RFC 2104, for engines that compose HMAC from SHA-256:
    HMAC(k, m) = SHA256(outer || SHA256(inner || m))."""
    block = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
    block = block.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)
