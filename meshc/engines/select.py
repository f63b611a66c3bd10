"""Run one checked SELECT over named Arrow tables on an engine's SQL runtime (public surface).

Gold transforms (meshc.mesh.transform) hand over a whitelisted sqlglot tree; each engine renders
it for its own dialect and runs it: DuckDB on a connection set up exactly like the DuckDB engine's
(session time zone UTC, set by the engine's `connect`, never pasted here), Spark on the shared
session (both written by their profile in meshc.engines.sql_dialects, as rule SQL is), Polars in
its SQL context. pandas has no SQL runtime, so a pandas domain's transform runs on Polars (the
embedded engine); the result is then validated on pandas. Each runner imports its library only
when called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

Tables = Mapping[str, "pa.Table"]


def run_select(tree: exp.Select, engine: str, inputs: Tables) -> pa.Table:
    """The result of `tree` over `inputs` (alias -> Arrow table), computed by `engine`."""
    return _RUNNERS.get(engine, _polars)(tree, inputs)


def _duckdb(tree: exp.Select, inputs: Tables) -> pa.Table:
    from meshc.engines._duckdb.engine import connect
    from meshc.engines.sql_dialects import DUCKDB

    con = connect()
    try:
        for alias, table in inputs.items():
            con.register(alias, table)
        return con.sql(DUCKDB.render(tree)).to_arrow_table()
    finally:
        con.close()


def _spark(tree: exp.Select, inputs: Tables) -> pa.Table:
    from meshc.engines._spark.session import get_session
    from meshc.engines.sql_dialects import SPARK

    spark = get_session()
    for alias, table in inputs.items():
        spark.createDataFrame(table).createOrReplaceTempView(alias)
    return spark.sql(SPARK.render(tree)).toArrow()


def _polars(tree: exp.Select, inputs: Tables) -> pa.Table:
    import polars as pl

    frames = {alias: pl.from_arrow(table) for alias, table in inputs.items()}
    ctx = pl.SQLContext(frames, eager=True)
    return ctx.execute(tree.sql(dialect="postgres")).to_arrow()


_RUNNERS: dict[str, Callable[[exp.Select, Tables], pa.Table]] = {
    "duckdb": _duckdb,
    "spark": _spark,
    "polars": _polars,
}
