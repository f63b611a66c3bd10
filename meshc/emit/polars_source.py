"""The rule IR as Polars expression source, for standalone Pandera (Polars) modules.

One small function per node class, mirroring the Polars engine's translator
(meshc/engines/_polars/translate.py) node for node, so a compiled module judges a row as
`meshc run` does: Kleene `&`/`|`/`~`, NULL for `/` and `%` by zero, SQL's remainder sign, exact
64-bit integer arithmetic (NULL on overflow), decimals that never overflow silently, text casts
through the text-cast grammar (meshc.engines.textcast), month-end clamping. Where Polars needs
more than one expression the translator asks for an inline helper (meshc.emit.pysource.Helpers).
"""

from __future__ import annotations

from decimal import Decimal

from meshc.emit.pysource import Helpers, literal_code, unsupported
from meshc.engines import textcast as spec
from meshc.engines.spec import handlers as node_handlers
from meshc.rules import expr as ir
from meshc.rules.typecheck import decimal_operands
from meshc.types import Kind, LogicalType

TARGET = "Polars"
_DURATION = {"year": "y", "month": "mo", "day": "d", "hour": "h", "minute": "m", "second": "s"}
_TEXT_FORMS = {
    Kind.INTEGER: spec.INTEGER,
    Kind.FLOAT: spec.FLOAT,
    Kind.BOOLEAN: ".*",  # decided by the token list
    Kind.DATE: spec.DATE,
    Kind.TIMESTAMP: spec.TIMESTAMP,
    Kind.TIMESTAMP_TZ: spec.TIMESTAMP,
}


def text_form(ltype: LogicalType) -> str:
    """The anchored regex of the text a value of `ltype` may be written as (textcast)."""
    if ltype.kind is Kind.DECIMAL:
        assert ltype.precision is not None and ltype.scale is not None
        return spec.full(spec.decimal(ltype.precision, ltype.scale))
    return spec.full(_TEXT_FORMS[ltype.kind])


def dtype_code(ltype: LogicalType) -> str:
    kind = ltype.kind
    if kind is Kind.DECIMAL:
        return f"pl.Decimal({ltype.precision}, {ltype.scale})"
    return {
        Kind.STRING: "pl.String",
        Kind.INTEGER: "pl.Int64",
        Kind.FLOAT: "pl.Float64",
        Kind.BOOLEAN: "pl.Boolean",
        Kind.DATE: "pl.Date",
        Kind.TIMESTAMP: 'pl.Datetime("us")',
        Kind.TIMESTAMP_TZ: 'pl.Datetime("us", "UTC")',
    }[kind]


class PolarsSource:
    """Translates IR trees to Polars expression text; `helpers` collects what the text calls."""

    def __init__(self, helpers: Helpers | None = None) -> None:
        self.helpers = helpers or Helpers(HELPERS)

    def __call__(self, node: ir.Expr) -> str:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise unsupported(node, TARGET)
        return handler(self, node)


def _col(_: PolarsSource, node: ir.Col) -> str:
    return f"pl.col({node.name!r})"


def _lit(t: PolarsSource, node: ir.Lit) -> str:
    if node.value is None:
        return f"pl.lit(None, {dtype_code(node.ltype)})" if node.ltype else "pl.lit(None)"
    value = literal_code(node.value)
    if isinstance(node.value, Decimal) or node.ltype is None or node.ltype.kind is Kind.DECIMAL:
        # a decimal literal keeps its own scale: min 1.005 on a decimal(10,2) must not round
        return f"pl.lit({value})"
    return f"pl.lit({value}, {dtype_code(node.ltype)})"


_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _compare(t: PolarsSource, node: ir.Compare) -> str:
    return f"({t(node.left)} {_OPS[node.op]} {t(node.right)})"


def _and(t: PolarsSource, node: ir.And) -> str:
    return f"({t(node.left)} & {t(node.right)})"


def _or(t: PolarsSource, node: ir.Or) -> str:
    return f"({t(node.left)} | {t(node.right)})"


def _not(t: PolarsSource, node: ir.Not) -> str:
    return f"(~{t(node.operand)})"


def _is_null(t: PolarsSource, node: ir.IsNull) -> str:
    return f"{t(node.operand)}.{'is_not_null' if node.negated else 'is_null'}()"


def _in_list(t: PolarsSource, node: ir.InList) -> str:
    operand = t(node.operand)
    values = [v.value for v in node.values if isinstance(v, ir.Lit)]
    same_type = all(v.type == node.operand.type for v in node.values)  # else 0.5 would become 0
    if (
        same_type
        and len(values) == len(node.values)
        and None not in values
        and not any(isinstance(v, Decimal) for v in values)
    ):
        items = ", ".join(literal_code(v) for v in values)
        dtype = dtype_code(node.operand.type) if node.operand.type else "None"
        found = (
            f"{operand}.is_in(pl.lit(pl.Series([{items}], dtype={dtype}, strict=False)).implode())"
        )
    else:  # x IN (.., NULL) is NULL rather than FALSE when nothing matches: OR of equalities
        found = "(" + " | ".join(f"({operand} == {t(v)})" for v in node.values) + ")"
    return f"(~{found})" if node.negated else found


def _between(t: PolarsSource, node: ir.Between) -> str:
    operand = t(node.operand)
    inside = f"(({operand} >= {t(node.low)}) & ({operand} <= {t(node.high)}))"
    return f"(~{inside})" if node.negated else inside


def _regex_search(t: PolarsSource, node: ir.RegexSearch) -> str:
    pattern = f"(?i){node.pattern}" if node.case_insensitive else node.pattern
    return f"{t(node.operand)}.str.contains({pattern!r}, literal=False, strict=True)"


def _arith(t: PolarsSource, node: ir.Arith) -> str:
    kind = node.ltype.kind
    if node.op == "/":
        t.helpers.use("nonzero")
        return f"({t(node.left)}.cast(pl.Float64) / _nonzero({t(node.right)}).cast(pl.Float64))"
    t.helpers.use("nonzero", "to_int64", "arith")
    if kind is Kind.DECIMAL and node.op in "+-*":
        t.helpers.use("decimal_fits")
    scale = node.ltype.scale or 0
    call = f"_arith({node.op!r}, {t(node.left)}, {t(node.right)}, {kind.value!r}, {scale}"
    if node.op == "*" and kind is Kind.DECIMAL and decimal_operands(node):
        t.helpers.use("exact_product")  # SQL's scale: the sum of the operands' (Polars: the max)
        return call + ", exact_product=True)"
    return call + ")"


def _neg(t: PolarsSource, node: ir.Neg) -> str:
    operand = t(node.operand)
    if node.type is not None and node.type.kind is Kind.INTEGER:
        t.helpers.use("to_int64")  # -MIN overflows
        return f"_to_int64(pl.lit(0, pl.Int128) - {operand}.cast(pl.Int128))"
    return f"(-{operand})"


def _case(t: PolarsSource, node: ir.Case) -> str:
    text = "pl"
    for cond, value in node.whens:
        text += f".when({t(cond)}).then({t(value)})"
    return f"{text}.otherwise({t(node.default)})"


def _coalesce(t: PolarsSource, node: ir.Coalesce) -> str:
    return "pl.coalesce([" + ", ".join(t(a) for a in node.args) + "])"


def _cast(t: PolarsSource, node: ir.Cast) -> str:
    operand, source, target = t(node.operand), node.operand.type, node.to
    if source is not None and source.kind is Kind.STRING and target.kind is not Kind.STRING:
        t.helpers.use("text_cast")
        return f"_text_cast({operand}, {text_form(target)!r}, {dtype_code(target)})"
    if source is not None and source.kind is Kind.FLOAT and target.kind is Kind.INTEGER:
        # Polars truncates toward zero already; NaN/inf/overflow become NULL (non-strict)
        return f"{operand}.cast(pl.Int64, strict=False)"
    return f"{operand}.cast({dtype_code(target)}, strict=False)"


def _str_fn(t: PolarsSource, node: ir.StrFn) -> str:
    operand = t(node.operand)
    if node.fn == "abs":
        if node.type is not None and node.type.kind is Kind.INTEGER:
            t.helpers.use("to_int64")  # |MIN| overflows
            return f"_to_int64({operand}.cast(pl.Int128).abs())"
        return f"{operand}.abs()"
    return {
        "length": f"{operand}.str.len_chars().cast(pl.Int64)",
        "upper": f"{operand}.str.to_uppercase()",
        "lower": f"{operand}.str.to_lowercase()",
        "trim": f'{operand}.str.strip_chars(" ")',
    }[node.fn]


def _substring(t: PolarsSource, node: ir.Substring) -> str:
    return f"{t(node.operand)}.str.slice({node.start - 1}, {node.length!r})"


def _concat(t: PolarsSource, node: ir.Concat) -> str:
    return "pl.concat_str([" + ", ".join(t(a) for a in node.args) + "], ignore_nulls=False)"


def _date_add(t: PolarsSource, node: ir.DateAdd) -> str:
    # offset_by clamps to the month end (2024-01-31 + 1 month = 2024-02-29), as specified
    return f"{t(node.operand)}.dt.offset_by({f'{node.amount}{_DURATION[node.unit]}'!r})"


def _date_diff_days(t: PolarsSource, node: ir.DateDiffDays) -> str:
    return f"({t(node.left)} - {t(node.right)}).dt.total_days().cast(pl.Int64)"


def _is_duplicate(t: PolarsSource, node: ir.IsDuplicate) -> str:
    t.helpers.use("is_duplicate")
    return "_is_duplicate([" + ", ".join(t(c) for c in node.columns) + "])"


def _current_date(t: PolarsSource, _: ir.CurrentDate) -> str:
    t.helpers.use("now")
    return "pl.lit(_now().date(), pl.Date)"


def _current_timestamp(t: PolarsSource, _: ir.CurrentTimestamp) -> str:
    t.helpers.use("now")
    return 'pl.lit(_now(), pl.Datetime("us", "UTC"))'


# one function per IR node class, found by name, as in the engines' translators
_HANDLERS = node_handlers(globals())

_BOOLEAN_TOKENS = {
    **dict.fromkeys(spec.TRUE_TOKENS, True),
    **dict.fromkeys(spec.FALSE_TOKENS, False),
}

# The helpers' source, written into a module when its checks call them. They mirror the Polars
# engine (meshc/engines/_polars/translate.py and cast.py); the conformance corpus runs them.
HELPERS: dict[str, str] = {
    "now": '''
def _now():
    """CURRENT_DATE / CURRENT_TIMESTAMP: the UTC clock when the check runs."""
    return datetime.datetime.now(datetime.timezone.utc)
''',
    "nonzero": '''
def _nonzero(divisor):
    """x / 0 and x % 0 are NULL in SQL (Polars gives infinity or an error)."""
    return pl.when(divisor != 0).then(divisor)
''',
    "to_int64": '''
def _to_int64(exact):
    """An exact (128-bit) integer result as Int64: NULL outside the signed 64-bit range."""
    return exact.cast(pl.Int64, strict=False)
''',
    "arith": '''
def _arith(op, left, right, kind, scale, exact_product=False):
    """+ - * % with SQL semantics: exact integers (NULL on 64-bit overflow), decimals NULL when
    the result would not fit 38 digits, a remainder with the dividend's sign, x % 0 NULL."""
    if op == "%":
        right = _nonzero(right)
    if kind == "integer":
        left, right = left.cast(pl.Int128), right.cast(pl.Int128)
    elif kind == "decimal" and op in "+-*":
        fits = _decimal_fits(op, left, right, scale)
        left, right = pl.when(fits).then(left), pl.when(fits).then(right)
    if op == "%":
        result = (left.abs() % right.abs()) * left.sign()
    elif op == "+":
        result = left + right
    elif op == "-":
        result = left - right
    elif exact_product:
        result = _exact_product(left, right, scale)
    else:
        result = left * right
    return _to_int64(result) if kind == "integer" else result
''',
    "exact_product": '''
def _exact_product(left, right, scale):
    """SQL's product of two decimals has the sum of their scales (0.25 * 0.25 = 0.0625); Polars
    gives it the larger one: the smaller operand is padded to the result's scale first."""
    wide = pl.Decimal(38, scale)
    pad_left = left.abs() <= right.abs()
    return (
        pl.when(pad_left)
        .then(left.cast(wide, strict=False) * right)
        .otherwise(left * right.cast(wide, strict=False))
    )
''',
    "decimal_fits": '''
def _decimal_fits(op, left, right, scale):
    """Whether `left op right` fits decimal(38, scale) (Polars raises for the whole frame)."""
    digits = 38 - scale
    if op == "*":
        estimate = (left.cast(pl.Float64) * right.cast(pl.Float64)).abs()
        if scale == 0:
            safe = estimate < 1.5e38
            product = pl.when(safe).then(left.cast(pl.Int128)) * right.cast(pl.Int128)
            return (safe & (product.abs() < pl.lit(10**digits, pl.Int128))).fill_null(True)
        return (estimate < 10.0**digits * (1 - 1e-12)).fill_null(True)
    largest = decimal.Decimal("9" * digits + ("." + "9" * scale if scale else ""))
    top = pl.lit(largest, pl.Decimal(38, scale))
    step = right if op == "+" else -right
    up, down = pl.when(step >= 0).then(step), pl.when(step < 0).then(step)
    return pl.coalesce(left <= top - up, left >= -top - down).fill_null(True)
''',
    "is_duplicate": '''
def _is_duplicate(keys):
    """Another row has the same key; a key with a NULL part is never a duplicate (SQL UNIQUE)."""
    has_null = pl.any_horizontal([k.is_null() for k in keys])
    return pl.when(has_null).then(pl.lit(False)).otherwise(pl.len().over(keys) > 1)
''',
    "text_cast": f'''
_TIMESTAMP_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M%#z",
    "%Y-%m-%dT%H:%M",
)


def _text_cast(raw, form, dtype):
    """CAST(text AS type) as meshc reads text: trimmed, only the documented `form`, else NULL."""
    text = raw.str.strip_chars({spec.TRIM_CHARS!r})
    if dtype == pl.Boolean:
        return text.str.to_lowercase().replace_strict(
            {_BOOLEAN_TOKENS!r}, default=None, return_dtype=pl.Boolean
        )
    if dtype == pl.Date:
        typed = text.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    elif isinstance(dtype, pl.Datetime):
        canonical = text.str.replace(" ", "T", literal=True).str.replace(
            {spec.DATE_THEN_OFFSET!r}, "${{1}}T00:00${{2}}"
        )
        utc = pl.Datetime("us", "UTC")
        attempts = [canonical.str.strptime(utc, f, strict=False) for f in _TIMESTAMP_FORMATS]
        attempts.append(text.str.strptime(pl.Date, "%Y-%m-%d", strict=False).cast(utc))
        typed = pl.coalesce(attempts)
        if dtype.time_zone is None:
            typed = typed.dt.replace_time_zone(None)
    else:
        typed = text.cast(dtype, strict=False)
    return pl.when(text.str.contains(form)).then(typed)
''',
}


def translate(node: ir.Expr, helpers: Helpers | None = None) -> str:
    """One IR tree as the text of a Polars expression."""
    return PolarsSource(helpers)(node)
