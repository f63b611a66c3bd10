"""The text-cast specification every engine implements, written once (docs/semantics.md,
"Text casting (one specification)").

What text each logical type accepts is data here: regex patterns, token sets and bounds. Each
engine translates them into its own vectorised expressions (Polars and pandas: Rust regex and
RE2 through pyarrow; DuckDB: RE2 `regexp_full_match`; Spark: Java regex), and only uses its
native parser to convert text the pattern already accepted (and to reject what a pattern cannot
decide: the 64-bit range, real calendar dates). So no engine's own leniency leaks through.

The patterns use only syntax the three regex dialects read alike: ASCII classes (`[0-9]`, never
`\\d`, which is Unicode in Rust), explicit letter cases (`[nN]`, no case-insensitive flag, whose
Unicode folding differs), non-capturing groups and Python-style named groups (`java()` rewrites
those for Spark). They are unanchored; `full()` anchors them for engines that search.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from meshc.types import Kind

# Leading and trailing characters ignored before casting (every type except string).
TRIM_CHARS = " "

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

INTEGER = r"[+-]?[0-9]+"

# A number in decimal or scientific notation, or an infinity (`inf`, `infinity`, any case).
FLOAT = (
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
)
# NaN, signed or not, any case: a valid float spelling that is read as NULL (not a failure).
FLOAT_NAN = r"[+-]?[nN][aA][nN]"

# Compared after lower-casing the trimmed text.
TRUE_TOKENS = ("true", "t", "yes", "1")
FALSE_TOKENS = ("false", "f", "no", "0")

# Years 0001-9999 (there is no year 0); month and day ranges here, real dates decided natively.
_YEAR = r"(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
DATE = rf"(?P<year>{_YEAR})-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12][0-9]|3[01])"
_CLOCK = (
    r"[T ](?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9])"
    # seconds stop at 59: a leap second :60 reads as the next minute in some parsers
    r"(?::(?P<second>[0-5][0-9])(?:\.(?P<fraction>[0-9]{1,6}))?)?"
)
_OFFSET = r"(?P<zone>Z|(?P<zonesign>[+-])(?P<zonehour>[01][0-9]|2[0-3]):(?P<zoneminute>[0-5][0-9]))"
# A date, optionally a clock, optionally an offset (also after a date alone: midnight there).
TIMESTAMP = rf"{DATE}(?:{_CLOCK})?{_OFFSET}?"
FRACTION_DIGITS = 6


def decimal(precision: int, scale: int) -> str:
    """decimal(p,s): at most p-s integer digits (leading zeros do not count, so `0.5` fits
    decimal(2,2)) and at most s fraction digits, so a value is never rounded to fit."""
    whole = precision - scale
    integer = rf"(?:0*[1-9][0-9]{{0,{whole - 1}}}|0+)" if whole > 0 else "0+"
    fraction = rf"(?:\.[0-9]{{1,{scale}}})?" if scale > 0 else ""
    return rf"[+-]?{integer}{fraction}"


def full(pattern: str, end: str = "$") -> str:
    """`pattern` matching the whole text (Java needs `end` `\\z`: its `$` allows a last newline)."""
    return f"^(?:{pattern}){end}"


def plain(pattern: str) -> str:
    """`pattern` with its named groups made non-capturing (for engines that number groups)."""
    return re.sub(r"\(\?P<[a-z]+>", "(?:", pattern)


def java(pattern: str) -> str:
    """Named groups in Java's spelling."""
    return pattern.replace("(?P<", "(?<")


def group_index(pattern: str, name: str) -> int:
    """The number of a named group, for engines that extract groups by number."""
    return re.compile(pattern).groupindex[name]


# A date directly followed by an offset: engines that cannot parse it insert midnight between.
DATE_THEN_OFFSET = rf"^({plain(DATE)})(Z|[+-])"


F = TypeVar("F", bound=Callable[..., object])


def text_casts(
    integer: F, float_: F, decimal: F, boolean: F, date: F, timestamp: F, /
) -> dict[Kind, F]:
    """An engine's table of text casts: one function per logical type text is cast to
    (docs/semantics.md, "Text casting"), all required; timestamp and timestamp_tz share one
    grammar, and string is never cast."""
    return {
        Kind.INTEGER: integer,
        Kind.FLOAT: float_,
        Kind.DECIMAL: decimal,
        Kind.BOOLEAN: boolean,
        Kind.DATE: date,
        Kind.TIMESTAMP: timestamp,
        Kind.TIMESTAMP_TZ: timestamp,
    }
