"""Vectorised proleptic-Gregorian calendar arithmetic on numpy int64 arrays.

Done by hand rather than through a parser because the libraries are lenient in ways the spec
forbids (pyarrow's strptime turns 2023-02-29 into 2023-03-01) or limited (datetime64[ns] stops at
2262). Formulas: Howard Hinnant, "chrono-compatible low-level date algorithms".
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
US_PER_DAY = 86_400_000_000
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def is_leap(year: Ints) -> npt.NDArray[np.bool_]:
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


def days_in_month(year: Ints, month: Ints) -> Ints:
    """Days in each month; `month` must already be within 1..12."""
    return _MONTH_DAYS[month - 1] + ((month == 2) & is_leap(year))


def valid_date(year: Ints, month: Ints, day: Ints) -> npt.NDArray[np.bool_]:
    ok_month = (month >= 1) & (month <= 12)
    safe_month = np.where(ok_month, month, 1)
    return ok_month & (year >= 1) & (day >= 1) & (day <= days_in_month(year, safe_month))


def days_from_civil(year: Ints, month: Ints, day: Ints) -> Ints:
    """Days since 1970-01-01 for valid (year, month, day) triples."""
    y = year - (month <= 2)
    era = y // 400  # numpy floors, which is what the formula needs for negative years
    yoe = y - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def add_months(year: Ints, month: Ints, day: Ints, months: int) -> Ints:
    """Days since epoch of (year, month, day) + `months`, the day clamped to the month's end."""
    total = year * 12 + (month - 1) + months
    new_year, new_month = total // 12, total % 12 + 1
    new_day = np.minimum(day, days_in_month(new_year, new_month))
    return days_from_civil(new_year, new_month, new_day)
