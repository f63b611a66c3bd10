"""A database source's `query` is contract text from another team: it must be one read-only
SELECT. It is parsed (sqlglot, in the database's dialect), never edited or concatenated; the
database then runs it as it is, inside a read-only transaction (meshc.storage.database)."""

from __future__ import annotations

_DIALECTS = {"postgresql": "postgres", "duckdb": "duckdb"}


def query_problem(sql: str, scheme: str) -> str | None:
    """Why `sql` is not one plain SELECT for the `scheme` database, or None when it is."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    too_big = _size_problem(sql)
    if too_big is not None:
        return too_big
    try:
        statements = [s for s in sqlglot.parse(sql, read=_DIALECTS.get(scheme)) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" (line {first.get('line')}, column {first.get('col')})" if first else ""
        return f"the query does not parse{where}: {first.get('description') or exc}"
    if len(statements) != 1:
        return f"the query holds {len(statements)} statements: give exactly one SELECT"
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        return "the query is not a SELECT statement: only a SELECT may be a source"
    writes = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Command)
    for node in statement.walk():
        if isinstance(node, (*writes, exp.Into)):
            return f"the query contains {node.key.upper()}: a source query may only read"
        if isinstance(node, exp.Lock):
            return "the query locks rows (FOR UPDATE/SHARE): a source query may only read"
    return None


def _size_problem(sql: str) -> str | None:
    """The bounds of a rule (meshc.rules.depth) hold for a query too, checked before sqlglot's
    parser, which recurses per parenthesis and spends ~50-90 us a token: a hostile query must
    not overflow the stack or stall `meshc check`."""
    from meshc.rules.depth import MAX_RULE_CHARS, check_token_nesting
    from meshc.rules.problems import RuleProblem

    if len(sql) > MAX_RULE_CHARS:
        return f"the query is too long: {len(sql):,} characters, the limit is {MAX_RULE_CHARS:,}"
    try:
        check_token_nesting(sql)
    except RuleProblem as exc:  # its message speaks of a rule: say what it means for a query
        return "the query is " + exc.message.removeprefix("rule ")
    return None
