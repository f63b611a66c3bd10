"""Where a run's OpenLineage events go, besides the per-run file (always written).

An openlineage-python client sends them when a transport is configured, in openlineage-python's
own order of precedence: the mesh's `openlineage:` block (or `DataProcessor(openlineage=...)`),
then `OPENLINEAGE_CONFIG` / `./openlineage.yml` / `~/.openlineage/openlineage.yml`, then the
`OPENLINEAGE__TRANSPORT__*` variables, then `OPENLINEAGE_URL` (HTTP). Without any of them no
client is made (openlineage-python would fall back to printing events on stdout, which is meshc's
machine output). `OPENLINEAGE_DISABLED=true` turns sending off.

A backend that cannot be reached does not change the run's outcome (its data is committed): the
failure becomes a warning in the run report, `openlineage: ...`. It must not hold the run either:
openlineage-python's HTTP transport retries 5 times with backoff, each try waiting up to its
5 s `timeout` (over 40 s per event when the backend hangs). Unless the configuration sets `retry`,
meshc retries once (`HTTP_RETRY`), and after an event fails, the process sends no more to that
transport (each later event is a warning, `not tried`); the event files hold every event.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DISABLED = "OPENLINEAGE_DISABLED"
HTTP_RETRY = {"total": 1, "connect": 1, "read": 1}  # over openlineage-python's: 5 of each
_FAILED: dict[str, str] = {}  # a transport configuration -> its first error, in this process


def transport_configured(explicit: Mapping[str, Any] | None) -> bool:
    """True when some configuration names a transport (see the module docstring)."""
    if os.environ.get(DISABLED, "").strip().lower() == "true":
        return False
    if explicit and explicit.get("transport"):
        return True
    if os.environ.get("OPENLINEAGE_URL") or os.environ.get("OPENLINEAGE_CONFIG"):
        return True
    if any(k.startswith("OPENLINEAGE__TRANSPORT") for k in os.environ):
        return True
    files = (Path.cwd() / "openlineage.yml", Path("~/.openlineage/openlineage.yml").expanduser())
    return any(p.is_file() for p in files)


def job_namespace(explicit: Mapping[str, Any] | None) -> str:
    """The jobs' namespace: the mesh's `openlineage.namespace`, else OPENLINEAGE_NAMESPACE (the
    variable OpenLineage integrations share), else `meshc`."""
    from meshc.lineage.events import DEFAULT_NAMESPACE

    configured = (explicit or {}).get("namespace") or os.environ.get("OPENLINEAGE_NAMESPACE")
    return str(configured or DEFAULT_NAMESPACE)


class Sender:
    """One openlineage-python client, made on first use; `send` returns an error message or
    None instead of raising."""

    def __init__(self, explicit: Mapping[str, Any] | None) -> None:
        transport = (explicit or {}).get("transport")
        self.config = {"transport": dict(transport)} if transport else None
        self._client: Any = None

    def send(self, event: Any) -> str | None:
        what = f"could not send the {event.eventType.value} event"
        key = repr(self.config)  # None: the environment's configuration, fixed for the process
        if key in _FAILED:
            return f"{what}: not tried, the backend failed before ({_FAILED[key]})"
        try:
            if self._client is None:
                from openlineage.client import OpenLineageClient

                self._client = OpenLineageClient(config=self.config)
                _bound_retries(self._client.transport, self._client.config.transport or {})
            self._client.emit(event)
        except Exception as exc:  # any transport's error: a warning, never a lost run
            _FAILED[key] = str(exc)
            return f"{what}: {exc}"
        return None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _bound_retries(transport: Any, configured: Mapping[str, Any]) -> None:
    """`HTTP_RETRY` on the HTTP transports (alone or in a composite), unless `retry` is set."""
    from openlineage.client.transport.composite import CompositeTransport
    from openlineage.client.transport.http import HttpTransport

    if _mentions(configured, "retry"):
        return
    members = transport.transports if isinstance(transport, CompositeTransport) else [transport]
    for member in members:
        if isinstance(member, HttpTransport):
            member.config.retry = {**member.config.retry, **HTTP_RETRY}


def _mentions(config: Any, key: str) -> bool:
    if isinstance(config, Mapping):
        return key in config or any(_mentions(v, key) for v in config.values())
    return False
