"""The rule IR as vectorised pandas code (pyarrow compute), for standalone Pandera modules.

The text is one expression over `f`, the frame being validated, whose value is an Arrow array
(or scalar) of booleans with SQL NULLs. Columns enter as Arrow data (`_col(f, "amount")`), so the
semantics are those of the pandas engine (meshc/engines/_pandas/), which computes on the same
Arrow kernels: Kleene AND/OR, NULL-propagating comparisons, RE2 regex search, UTF-8 lengths in
characters. Numbers are unified as the engine does (any float makes both sides float, a decimal
beside an integer makes it decimal), with the casts written into the text. What Arrow lacks
(exact 64-bit arithmetic, x/0 and x%0 as NULL, month-end clamping) is an inline helper.
Text casts of dates, timestamps and decimals inside rules are not expressed (a Gap).
"""

from __future__ import annotations

from decimal import Decimal

from meshc.emit.pysource import Helpers, literal_code, unsupported
from meshc.engines import textcast as spec
from meshc.engines.spec import handlers as node_handlers
from meshc.rules import expr as ir
from meshc.types import Kind, LogicalType

TARGET = "pandas"
_FUNCS = {"=": "equal", "!=": "not_equal", "<": "less", "<=": "less_equal", ">": "greater"}
_FUNCS[">="] = "greater_equal"


def arrow_type(ltype: LogicalType) -> str:
    kind = ltype.kind
    if kind is Kind.DECIMAL:
        return f"pyarrow.decimal128({ltype.precision or 38}, {ltype.scale or 0})"
    return {
        Kind.STRING: "pyarrow.large_string()",
        Kind.INTEGER: "pyarrow.int64()",
        Kind.FLOAT: "pyarrow.float64()",
        Kind.BOOLEAN: "pyarrow.bool_()",
        Kind.DATE: "pyarrow.date32()",
        Kind.TIMESTAMP: 'pyarrow.timestamp("us")',
        Kind.TIMESTAMP_TZ: 'pyarrow.timestamp("us", tz="UTC")',
    }[kind]


class PandasSource:
    """Translates IR trees to pyarrow-compute text over `f`; `helpers` collects what it calls."""

    def __init__(self, helpers: Helpers | None = None) -> None:
        self.helpers = helpers or Helpers(HELPERS)

    def __call__(self, node: ir.Expr) -> str:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise unsupported(node, TARGET)
        return handler(self, node)

    def unified(self, nodes: tuple[ir.Expr, ...], target: LogicalType | None = None) -> list[str]:
        """The operands' text, numbers widened to one kind (as the pandas engine unifies)."""
        types = [n.type for n in nodes]
        target = target or _numeric_target(types)
        out = []
        for node, ltype in zip(nodes, types, strict=True):
            text = self(node)
            if target is not None and ltype is not None and ltype.kind is not target.kind:
                if target.kind is Kind.FLOAT:
                    text = f"{text}.cast(pyarrow.float64(), safe=False)"
                elif target.kind is Kind.DECIMAL and ltype.kind is Kind.INTEGER:
                    text = f"{text}.cast(pyarrow.decimal128(19, 0))"
            elif ltype is None and target is not None:
                text = f"pyarrow.scalar(None, {arrow_type(target)})"
            out.append(text)
        return out


def _numeric_target(types: list[LogicalType | None]) -> LogicalType | None:
    known = [t for t in types if t is not None and t.is_numeric]
    if not known:
        return None
    if any(t.kind is Kind.FLOAT for t in known):
        return LogicalType(Kind.FLOAT)
    if any(t.kind is Kind.DECIMAL for t in known):
        return LogicalType(Kind.DECIMAL, 38, max(t.scale or 0 for t in known))
    return LogicalType(Kind.INTEGER)


def _col(t: PandasSource, node: ir.Col) -> str:
    t.helpers.use("col")
    return f"_col(f, {node.name!r})"


def _lit(_: PandasSource, node: ir.Lit) -> str:
    if node.value is None:
        return f"pyarrow.scalar(None, {arrow_type(node.ltype)})" if node.ltype else "None"
    if isinstance(node.value, Decimal) or node.ltype is None:
        return f"pyarrow.scalar({literal_code(node.value)})"  # a decimal keeps its own scale
    return f"pyarrow.scalar({literal_code(node.value)}, {arrow_type(node.ltype)})"


def _compare(t: PandasSource, node: ir.Compare) -> str:
    left, right = t.unified((node.left, node.right))
    return f"pc.{_FUNCS[node.op]}({left}, {right})"


def _and(t: PandasSource, node: ir.And) -> str:
    return f"pc.and_kleene({t(node.left)}, {t(node.right)})"


def _or(t: PandasSource, node: ir.Or) -> str:
    return f"pc.or_kleene({t(node.left)}, {t(node.right)})"


def _not(t: PandasSource, node: ir.Not) -> str:
    return f"pc.invert({t(node.operand)})"


def _is_null(t: PandasSource, node: ir.IsNull) -> str:
    return f"pc.{'is_valid' if node.negated else 'is_null'}({t(node.operand)})"


def _in_list(t: PandasSource, node: ir.InList) -> str:
    # x IN (a, b) is x = a OR x = b, which gives SQL's NULL rules (also for a NULL in the list)
    parts = [_compare(t, ir.Compare("=", node.operand, v)) for v in node.values]
    if len(parts) == 1:
        found = parts[0]
    elif len(parts) == 2:
        found = f"pc.or_kleene({parts[0]}, {parts[1]})"
    else:
        t.helpers.use("any_kleene")
        found = "_any_kleene(" + ", ".join(parts) + ")"
    return f"pc.invert({found})" if node.negated else found


def _between(t: PandasSource, node: ir.Between) -> str:
    low = _compare(t, ir.Compare(">=", node.operand, node.low))
    high = _compare(t, ir.Compare("<=", node.operand, node.high))
    inside = f"pc.and_kleene({low}, {high})"
    return f"pc.invert({inside})" if node.negated else inside


def _regex_search(t: PandasSource, node: ir.RegexSearch) -> str:
    # pyarrow's kernel is RE2, as in the pandas engine; the portable subset reads the same
    pattern = ("(?i)" if node.case_insensitive else "") + node.pattern
    return f"pc.match_substring_regex({t(node.operand)}, {pattern!r})"


def _arith(t: PandasSource, node: ir.Arith) -> str:
    if node.op == "/":
        left, right = t.unified((node.left, node.right), LogicalType(Kind.FLOAT))
        t.helpers.use("divide")
        return f"_divide({left}, {right})"
    target = _numeric_target([node.left.type, node.right.type]) or LogicalType(Kind.INTEGER)
    if node.op == "%" and target.kind is Kind.DECIMAL:
        raise unsupported("'%' on decimals", TARGET)
    left, right = t.unified((node.left, node.right), target)
    if node.op == "%":
        t.helpers.use("numpy", "modulo")
        return f"_modulo({left}, {right})"
    if target.kind is Kind.FLOAT:
        return f"pc.{_ARITH[node.op]}({left}, {right})"
    t.helpers.use("exact")
    return f"_exact({node.op!r}, {left}, {right}, {target.kind is Kind.INTEGER})"


_ARITH = {"+": "add", "-": "subtract", "*": "multiply"}


def _neg(t: PandasSource, node: ir.Neg) -> str:
    operand = t(node.operand)
    if node.type is not None and node.type.kind is Kind.INTEGER:
        t.helpers.use("exact")  # -MIN overflows
        return f"_exact('-', pyarrow.scalar(0, pyarrow.int64()), {operand}, True)"
    return f"pc.negate({operand})"


def _case(t: PandasSource, node: ir.Case) -> str:
    values = t.unified(tuple(v for _, v in node.whens) + (node.default,), node.ltype)
    target = _common_type(node.ltype, [v.type for _, v in node.whens] + [node.default.type])
    result = f"{values[-1]}"
    for (cond, _), value in reversed(list(zip(node.whens, values[:-1], strict=True))):
        result = f"pc.if_else(pc.fill_null({t(cond)}, False), {_as(value, target)}, {_as(result, target)})"
    return result


def _coalesce(t: PandasSource, node: ir.Coalesce) -> str:
    values = t.unified(node.args, node.ltype)
    target = _common_type(node.ltype, [a.type for a in node.args])
    return "pc.coalesce(" + ", ".join(_as(v, target) for v in values) + ")"


def _common_type(ltype: LogicalType | None, types: list[LogicalType | None]) -> str | None:
    """One Arrow type for the branches of CASE / COALESCE (decimals at the widest scale)."""
    if ltype is None:
        return None
    if ltype.kind is Kind.DECIMAL:
        scale = max(
            (t.scale or 0 for t in types if t is not None and t.scale is not None), default=0
        )
        return f"pyarrow.decimal128(38, {scale})"
    return arrow_type(ltype)


def _as(text: str, arrow: str | None) -> str:
    return text if arrow is None else f"pc.cast({text}, {arrow})"


def _cast(t: PandasSource, node: ir.Cast) -> str:
    source, target = node.operand.type, node.to
    if source is None:
        return f"pyarrow.scalar(None, {arrow_type(target)})"
    operand = t(node.operand)
    if source.kind is target.kind and target.kind is not Kind.DECIMAL:
        return operand
    if target.kind is Kind.STRING:
        return f"pc.cast({operand}, pyarrow.large_string())"
    if source.kind is Kind.STRING and target.kind in (Kind.INTEGER, Kind.FLOAT, Kind.BOOLEAN):
        t.helpers.use("text_cast")
        return f"_text_cast({operand}, {target.kind.value!r})"
    if source.kind is Kind.DECIMAL and target.kind is Kind.INTEGER:
        # cutting the fraction off the text truncates exactly; overflow is NULL
        t.helpers.use("text_cast")
        whole = (
            f'pc.replace_substring_regex(pc.cast({operand}, pyarrow.large_string()), r"\\..*$", "")'
        )
        return f"_text_cast({whole}, 'integer')"
    if source.kind is Kind.INTEGER and target.kind is Kind.BOOLEAN:
        return f"pc.not_equal({operand}, 0)"
    if source.kind is Kind.FLOAT and target.kind is Kind.INTEGER:
        t.helpers.use("float_to_integer")
        return f"_float_to_integer({operand})"
    if source.kind in (Kind.INTEGER, Kind.DECIMAL) and target.kind is Kind.FLOAT:
        return f"pc.cast({operand}, pyarrow.float64(), safe=False)"
    temporal = (Kind.DATE, Kind.TIMESTAMP, Kind.TIMESTAMP_TZ)
    if source.kind in temporal and target.kind in temporal:
        return f"pc.cast({operand}, {arrow_type(target)})"
    if source.kind is Kind.BOOLEAN and target.kind is Kind.INTEGER:
        return f"pc.cast({operand}, pyarrow.int64())"
    raise unsupported(f"CAST from {source} to {target}", TARGET)


def _str_fn(t: PandasSource, node: ir.StrFn) -> str:
    operand = t(node.operand)
    if node.fn == "abs":
        if node.type is not None and node.type.kind is Kind.INTEGER:
            t.helpers.use("exact")  # |MIN| overflows
            return f"_exact('abs', {operand}, None, True)"
        return f"pc.abs({operand})"
    return {
        "length": f"pc.cast(pc.utf8_length({operand}), pyarrow.int64())",  # characters
        "upper": f"pc.utf8_upper({operand})",
        "lower": f"pc.utf8_lower({operand})",
        "trim": f'pc.utf8_trim({operand}, " ")',
    }[node.fn]


def _substring(t: PandasSource, node: ir.Substring) -> str:
    start = node.start - 1  # SQL is 1-based; the kernel counts characters
    stop = "" if node.length is None else f", stop={start + node.length}"
    return f"pc.utf8_slice_codeunits({t(node.operand)}, {start}{stop})"


def _concat(t: PandasSource, node: ir.Concat) -> str:
    parts = ", ".join(f"pc.cast({t(a)}, pyarrow.large_string())" for a in node.args)
    # emit_null: NULL when any argument is NULL
    empty = 'pyarrow.scalar("", pyarrow.large_string())'
    return f'pc.binary_join_element_wise({parts}, {empty}, null_handling="emit_null")'


def _date_add(t: PandasSource, node: ir.DateAdd) -> str:
    t.helpers.use("numpy", "date_add")
    return f"_date_add({t(node.operand)}, {node.amount}, {node.unit!r})"


def _date_diff_days(t: PandasSource, node: ir.DateDiffDays) -> str:
    t.helpers.use("days")
    return f"pc.subtract(_days({t(node.left)}), _days({t(node.right)}))"


def _is_duplicate(t: PandasSource, node: ir.IsDuplicate) -> str:
    t.helpers.use("is_duplicate")
    return f"_is_duplicate(f, {[c.name for c in node.columns]!r})"


def _current_date(t: PandasSource, _: ir.CurrentDate) -> str:
    t.helpers.use("now")
    return "pyarrow.scalar(_now().date(), pyarrow.date32())"


def _current_timestamp(t: PandasSource, _: ir.CurrentTimestamp) -> str:
    t.helpers.use("now")
    return 'pyarrow.scalar(_now(), pyarrow.timestamp("us", tz="UTC"))'


# one function per IR node class, found by name, as in the engines' translators
_HANDLERS = node_handlers(globals())

# The helpers' source, written into a module when its checks call them. They mirror the pandas
# engine (meshc/engines/_pandas/); the conformance corpus runs them.
HELPERS: dict[str, str] = {
    "col": '''
def _col(frame, name):
    """A column as Arrow data (a pandas NA is an Arrow null)."""
    return pyarrow.array(frame[name])
''',
    "now": '''
def _now():
    """CURRENT_DATE / CURRENT_TIMESTAMP: the UTC clock when the check runs."""
    return datetime.datetime.now(datetime.timezone.utc)
''',
    "any_kleene": '''
def _any_kleene(*parts):
    """OR of several three-valued booleans."""
    result = parts[0]
    for part in parts[1:]:
        result = pc.or_kleene(result, part)
    return result
''',
    "divide": '''
def _divide(left, right):
    """Float division; x / 0 is NULL."""
    return pc.divide(left, pc.if_else(pc.equal(right, 0), pyarrow.scalar(None, pyarrow.float64()), right))
''',
    "numpy": '''
def _numpy(values, length, fill):
    """Arrow data (or a scalar, broadcast) as a numpy array with NULLs as `fill`, and the mask."""
    if isinstance(values, pyarrow.Scalar):
        values = pyarrow.repeat(values, length)
    if isinstance(values, pyarrow.ChunkedArray):
        values = values.combine_chunks()
    missing = numpy.asarray(pc.is_null(values).to_numpy(zero_copy_only=False), dtype=bool)
    return numpy.asarray(pc.fill_null(values, fill).to_numpy(zero_copy_only=False)), missing
''',
    "modulo": '''
def _modulo(left, right):
    """SQL's remainder takes the dividend's sign (fmod); x % 0 is NULL."""
    length = next((len(v) for v in (left, right) if not isinstance(v, pyarrow.Scalar)), 1)
    a, a_missing = _numpy(left, length, 0)
    b, b_missing = _numpy(right, length, 1)
    missing = a_missing | b_missing | (b == 0)
    values = numpy.fmod(a, numpy.where(b == 0, 1, b))
    return pyarrow.array(values, mask=missing)
''',
    "exact": '''
_INT64 = (pyarrow.scalar(-(2**63), pyarrow.decimal128(19, 0)), pyarrow.scalar(2**63 - 1, pyarrow.decimal128(19, 0)))
_CHECKED = {"+": pc.add_checked, "-": pc.subtract_checked, "*": pc.multiply_checked}


def _exact(op, left, right, integer):
    """Exact integer or decimal arithmetic: an integer result outside 64 bits is NULL, and so is
    a decimal that needs more than 38 digits (never a wrapped or rounded value)."""
    if integer:
        left = pc.cast(left, pyarrow.decimal128(19, 0))
        right = None if right is None else pc.cast(right, pyarrow.decimal128(19, 0))
    if op == "abs":
        result = pc.abs(left)
    else:
        try:
            result = _CHECKED[op](left, right)
        except pyarrow.ArrowInvalid:
            result = _CHECKED[op](_decimal256(left), _decimal256(right))
            scale = min(result.type.scale, 38)
            bound = pyarrow.scalar(decimal.Decimal(10) ** (38 - scale), pyarrow.decimal256(76, scale))
            fits = pc.fill_null(pc.less(pc.abs(result), bound), False)
            result = pc.if_else(fits, result, pyarrow.scalar(None, result.type))
            result = pc.cast(result, pyarrow.decimal128(38, scale))
    if not integer:
        return result
    low, high = _INT64
    fits = pc.fill_null(pc.and_(pc.greater_equal(result, low), pc.less_equal(result, high)), False)
    return pc.cast(pc.if_else(fits, result, pyarrow.scalar(None, result.type)), pyarrow.int64())


def _decimal256(values):
    """decimal256 with just the precision the values need, so a product stays within 76 digits."""
    scale = values.type.scale
    if isinstance(values, pyarrow.Scalar):
        largest = abs(values.as_py()) if values.is_valid else None
    else:
        largest = pc.max(pc.abs(values)).as_py()
    whole = max(largest.adjusted() + 1, 0) if largest else 0
    return pc.cast(values, pyarrow.decimal256(max(whole + scale, scale, 1), scale))
''',
    "float_to_integer": '''
def _float_to_integer(values):
    """CAST(float AS INTEGER): toward zero; NaN, infinities and values outside 64 bits are NULL."""
    inside = pc.and_(
        pc.is_finite(values),
        pc.and_(pc.greater_equal(values, -(2.0**63)), pc.less(values, 2.0**63)),
    )
    kept = pc.if_else(pc.fill_null(inside, False), values, pyarrow.scalar(None, pyarrow.float64()))
    return pc.cast(pc.trunc(kept), pyarrow.int64())
''',
    "text_cast": f'''
_TEXT_FORMS = {{"integer": {spec.full(spec.INTEGER)!r}, "float": {spec.full(spec.FLOAT)!r}}}
_TOKENS = ({list(spec.TRUE_TOKENS)!r}, {list(spec.FALSE_TOKENS)!r})


def _text_cast(values, kind):
    """CAST(text AS integer|float|boolean) as meshc reads text: trimmed, the documented form
    only (an integer within 64 bits), anything else NULL."""
    text = pc.utf8_trim(pc.cast(values, pyarrow.string()), {spec.TRIM_CHARS!r})
    if kind == "boolean":
        lowered = pc.utf8_lower(text)
        is_true = pc.is_in(lowered, pyarrow.array(_TOKENS[0]))
        known = pc.or_(is_true, pc.is_in(lowered, pyarrow.array(_TOKENS[1])))
        return pc.if_else(known, is_true, pyarrow.scalar(None, pyarrow.bool_()))
    ok = pc.fill_null(pc.match_substring_regex(text, _TEXT_FORMS[kind]), False)
    unsigned = pc.replace_substring_regex(text, r"^\\+", "")
    kept = pc.if_else(ok, unsigned, pyarrow.scalar(None, pyarrow.string()))
    if kind == "float":
        return pc.cast(kept, pyarrow.float64())
    wide = pc.cast(pc.replace_substring_regex(kept, r"^(-?)0+([0-9])", r"\\1\\2"), pyarrow.string())
    digits = pc.utf8_length(pc.replace_substring_regex(wide, r"^-", ""))
    small = pc.fill_null(pc.less(digits, 19), False)
    exact = pc.cast(pc.if_else(small, wide, pyarrow.scalar(None, pyarrow.string())), pyarrow.int64())
    big = pc.cast(pc.if_else(small, pyarrow.scalar(None, pyarrow.string()), wide), pyarrow.decimal128(38, 0))
    low, high = -(2**63), 2**63 - 1
    fits = pc.and_(pc.greater_equal(big, low), pc.less_equal(big, high))
    big = pc.cast(pc.if_else(pc.fill_null(fits, False), big, pyarrow.scalar(None, big.type)), pyarrow.int64())
    return pc.coalesce(exact, big)
''',
    "days": '''
def _days(values):
    """A date as its day number (days since 1970-01-01)."""
    return pc.cast(pc.cast(values, pyarrow.int32()), pyarrow.int64())
''',
    "date_add": '''
_US_PER_DAY = 86_400_000_000
_STEP_US = {"day": _US_PER_DAY, "hour": 3_600_000_000, "minute": 60_000_000, "second": 1_000_000}
_MONTH_DAYS = numpy.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _date_add(values, amount, unit):
    """date/timestamp + INTERVAL; months and years clamp the day to the month's end."""
    if isinstance(values, pyarrow.Scalar):  # CURRENT_DATE + INTERVAL ...
        return _date_add(pyarrow.array([values.as_py()], values.type), amount, unit)[0]
    if isinstance(values, pyarrow.ChunkedArray):
        values = values.combine_chunks()
    is_date = pyarrow.types.is_date32(values.type)
    storage = pyarrow.int32() if is_date else pyarrow.int64()
    base, missing = _numpy(pc.cast(values, storage), len(values), 0)
    base = base.astype(numpy.int64)
    if unit in ("year", "month"):
        y, m, d = (_numpy(part(values), len(values), 1)[0].astype(numpy.int64)
                   for part in (pc.year, pc.month, pc.day))
        total = y * 12 + (m - 1) + amount * (12 if unit == "year" else 1)
        year, month = total // 12, total % 12 + 1
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        day = numpy.minimum(d, _MONTH_DAYS[month - 1] + ((month == 2) & leap))
        shifted_year = year - (month <= 2)  # days from civil (H. Hinnant's algorithm)
        era = shifted_year // 400
        yoe = shifted_year - era * 400
        doy = (153 * numpy.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
        days = era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468
        new = days if is_date else days * _US_PER_DAY + (base - (base // _US_PER_DAY) * _US_PER_DAY)
    else:
        new = base + amount * (1 if is_date else _STEP_US[unit])
    return pyarrow.array(new, pyarrow.int64(), mask=missing).cast(storage).cast(values.type)
''',
    "is_duplicate": '''
def _is_duplicate(frame, names):
    """Another row has the same key; a key with a NULL part is never a duplicate (SQL UNIQUE)."""
    keys = frame[names]
    repeated = keys.duplicated(keep=False).to_numpy() & ~keys.isna().any(axis=1).to_numpy()
    return pyarrow.array(repeated, pyarrow.bool_())
''',
}


def translate(node: ir.Expr, helpers: Helpers | None = None) -> str:
    """One IR tree as the text of a pyarrow-compute expression over the frame `f`."""
    return PandasSource(helpers)(node)
