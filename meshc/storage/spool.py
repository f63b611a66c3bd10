"""A processor's private folder for data in transit: sources fetched from object storage, a Delta
version or a database query exported to Parquet, and outputs waiting to be published. It lives as
long as the frames read from it (until `DataProcessor.close()`, or the interpreter exits)."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path


class Spool:
    def __init__(self) -> None:
        self._folder: Path | None = None
        self._finalizer: weakref.finalize | None = None

    def folder(self, name: str) -> Path:
        """A new empty subfolder `name` (made unique) of the spool."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="meshc-spool-"))
            self._finalizer = weakref.finalize(self, shutil.rmtree, self._folder, True)
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self._folder))

    def close(self) -> None:
        """Remove everything spooled. Idempotent."""
        if self._finalizer is not None:
            self._finalizer()
        self._folder = None
        self._finalizer = None
