"""What `meshc init` borrows from the Polars engine to profile a source (public surface).

The profiler (meshc.bootstrap.profile) reads sources the way `meshc run` reads them on Polars and
tries each candidate type with the engine's own cast, so an inferred type is exactly one that
`meshc run` accepts. Both are the Polars engine's functions, re-exported here so that code outside
meshc/engines/ never imports an engine's private package (tests/test_architecture.py).

- `read(paths, fmt, *, delimiter=",", header=True, text_columns=())` -> a LazyFrame; text formats
  are read with every column as text.
- `cast_text(raw, ltype)` -> (typed, ok): a text column parsed with meshc's cast grammar
  (meshc.engines.textcast); `ok` is false where a non-NULL value does not parse.
- `cast_column(raw, source_dtype, ltype)` -> (typed, ok): the same for an already-typed column.
"""

from __future__ import annotations

from meshc.engines._polars.cast import cast_column, cast_text
from meshc.engines._polars.io import read

__all__ = ["cast_column", "cast_text", "read"]
