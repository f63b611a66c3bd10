"""Gold transformations: one SELECT over declared inputs, parsed and whitelisted like rules.

The SELECT may read only the aliases the contract declares under `transform.inputs`, and may use
joins, filters, grouping and the rule dialect's functions plus aggregates. It is re-rendered from
the checked tree for the engine that runs it; the user's text is never executed as written.
"""

from __future__ import annotations

from typing import Any

from meshc.contract import Contract
from meshc.errors import ContractError
from meshc.located_yaml import JsonPath

_ALLOWED_FUNCS = {
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "coalesce",
    "cast",
    "trycast",
    "length",
    "upper",
    "lower",
    "trim",
    "abs",
    "substring",
    "concat",
    "round",
    "case",
    "if",
    "nullif",
    "currentdate",
    "datetrunc",
    "extract",
}


def _problem(contract: Contract, message: str, hint: str | None = None) -> ContractError:
    jpath: JsonPath = ("transform", "sql")
    if contract.locator is None:
        from meshc.diagnostics import Diagnostic

        return ContractError([Diagnostic("MC311", message, contract.path, hint=hint)])
    return ContractError([contract.locator.diagnostic("MC311", message, jpath, hint=hint)])


def checked_select(contract: Contract) -> Any:
    """The transform's SELECT as a whitelisted sqlglot tree; ContractError otherwise."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    assert contract.transform is not None
    sql = contract.transform.sql
    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except ParseError as exc:
        raise _problem(
            contract, f"SQL syntax error in transform: {str(exc).splitlines()[0]}"
        ) from None
    if len(trees) != 1 or not isinstance(trees[0], exp.Select):
        raise _problem(
            contract,
            "a transform is exactly one SELECT statement",
            "remove ';' and other statements",
        )
    tree = trees[0]
    aliases = {i.alias for i in contract.transform.inputs}
    ctes = {c.alias for c in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if table.args.get("db") or table.args.get("catalog"):
            raise _problem(
                contract, f"qualified table '{table.sql()}' is not allowed", "use an input alias"
            )
        if table.name not in aliases | ctes:
            raise _problem(
                contract,
                f"the transform reads '{table.name}', which is not a declared input",
                f"declared inputs: {', '.join(sorted(aliases))}",
            )
    for node in tree.walk():
        if isinstance(
            node,
            (
                exp.Insert,
                exp.Update,
                exp.Delete,
                exp.Drop,
                exp.Create,
                exp.Command,
                exp.Alter if hasattr(exp, "Alter") else exp.Command,
            ),
        ):
            raise _problem(contract, f"'{node.key.upper()}' is not allowed in a transform")
        if isinstance(node, exp.Func) and not isinstance(node, exp.Table):
            name = node.key.lower()
            if isinstance(node, exp.Anonymous) or name not in _ALLOWED_FUNCS:
                fname = node.name if isinstance(node, exp.Anonymous) else name
                raise _problem(
                    contract,
                    f"function '{fname}' is not allowed in a transform",
                    "see docs/rule-dialect.md for the whitelist",
                )
    return tree


def run_transform(contract: Contract, engine_name: str, inputs: dict[str, Any]) -> Any:
    """Execute the checked SELECT over `inputs` (alias -> pyarrow Table); returns a pyarrow Table
    that the runner stages as Parquet and validates like any source.

    The engine renders the checked tree for its own dialect and runs it (meshc.engines.select):
    DuckDB and Spark run their SQL, Polars its SQL context; a pandas domain's transform runs on
    Polars (pandas has no SQL engine of its own), and the result is then validated on pandas."""
    from meshc.engines.select import run_select

    return run_select(checked_select(contract), engine_name, inputs)
