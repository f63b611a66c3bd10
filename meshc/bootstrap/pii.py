"""Personal data, flagged by column name and by content. A flag sets `pii: true` only; choosing a
masking (hash, redact, partial, nullify) changes what consumers receive, so it is left to a person
and mentioned in the summary."""

from __future__ import annotations

import re
from dataclasses import dataclass

from meshc.bootstrap.profile import ColumnStats

_NAME_HINTS: tuple[tuple[str, str], ...] = (
    (r"e_?mail", "e-mail address"),
    (r"(^|_)ip(_address)?$|ip_addr", "IP address"),
    (r"phone|mobile|msisdn|fax", "phone number"),
    (
        r"(first|last|middle|full|given|family|sur)_?name|^name$|customer_name|contact_name",
        "person name",
    ),
    (r"address|street|zip|postcode|postal", "postal address"),
    (r"ssn|social_security|national_id|passport|tax_id|driver_?licen", "national identifier"),
    (r"birth|^dob$", "date of birth"),
    (r"iban|account_number|card_number|credit_card|^ccn?$", "financial account"),
)
_CONTENT_SHARE = 0.9  # share of values that must look like personal data


@dataclass(frozen=True)
class PiiFlag:
    column: str
    kind: str
    evidence: str


def detect(stats: ColumnStats) -> PiiFlag | None:
    """A PII flag for one column, by name first, then by content."""
    lowered = stats.name.lower()
    for pattern, kind in _NAME_HINTS:
        if re.search(pattern, lowered):
            return PiiFlag(stats.name, kind, f"column name suggests {kind}")
    present = stats.present
    if present == 0 or not stats.formats:
        return None
    for fmt, kind in (("email", "e-mail address"), ("phone", "phone number")):
        share = stats.formats.get(fmt, 0) / present
        if share >= _CONTENT_SHARE and not (fmt == "phone" and _looks_numeric_id(stats)):
            return PiiFlag(stats.name, kind, f"{share:.1%} of values look like a {kind}")
    return None


def _looks_numeric_id(stats: ColumnStats) -> bool:
    """Fixed-width digit strings (order numbers) match the phone form too; a phone column has
    separators or a '+' in most values."""
    shape = stats.top_shape
    return shape is not None and set(shape[0]) <= {"9"}
