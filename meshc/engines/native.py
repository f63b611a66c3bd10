"""The rule IR as each dataframe library's own expression (public surface).

For code outside the engines that evaluates a compiled rule on a frame it was handed, such as the
Pandera runtime of `meshc compile --target pandera` (meshc.emit.runtime). Each function imports
its engine's translator only when called, so importing this module loads no dataframe library.
The translators are the engines' own: a rule means the same here as in `meshc run`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from meshc.rules import expr as ir

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    from pyspark.sql import Column


def polars_expr(node: ir.Expr) -> pl.Expr:
    """A Polars expression (NULL where the rule is NULL, as in SQL)."""
    from meshc.engines._polars.translate import translate

    return translate(node)


def pandas_values(node: ir.Expr, frame: pd.DataFrame) -> pd.Series:
    """The rule evaluated on a pandas frame with a default RangeIndex (NA where NULL)."""
    from meshc.engines._pandas.translate import evaluate

    return evaluate(node, frame)


def spark_column(node: ir.Expr) -> Column:
    """A PySpark Column (NULL where the rule is NULL)."""
    from meshc.engines._spark.translate import translate

    return translate(node)
