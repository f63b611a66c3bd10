"""Write deterministic landing data for the example mesh, with deliberate, documented defects.

    python examples/generate_landing.py --root . --rows 200 --seed 7

For every non-gold contract under `contracts/`, writes `landing/<domain>/<name>.<ext>` (the
contract's `source.path`, in its `source.format`) under `--root`, and the defect manifest
`landing/_expected_defects.json`:

    {"generator": {...}, "datasets": {"crm.orders": {"path": ..., "format": ..., "rows": 200,
      "primary_key": "order_id", "defects": [
        {"row": 17, "key": "ORD-1000017", "kind": "cast_failure", "column": "order_amount",
         "value": "abc", "rule_ids": ["order_amount.type"]}, ...]}}}

`row` is the 0-based position among the data rows (CSV line `row + 2`); `rule_ids` are the ids meshc
gives the failed checks (`<column>.type|required|unique|accepted_values|range|pattern|max_length|
references`, or the rule's `name`), in quarantine-reason order. (mesh.yaml's money policy injects
no extra checks here: every example contract already carries its `>= 0` rules.)

Every row that is *not* listed satisfies every error and warn rule of its contract, including
foreign keys to the clean rows of the parent dataset; duplicates list every row that shares the
key. Dates are fixed (2024-2025), so the output depends only on `rows` and `seed` (byte-identical
across runs).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

CONTRACTS = Path(__file__).resolve().parent.parent / "contracts"
MANIFEST = "landing/_expected_defects.json"
MIN_ROWS, MAX_ROWS = 50, 5000
UTC = timezone.utc
Row = dict[str, Any]
Value = Any  # a literal, or a callable(row, rng) computing one from the original row

FIRST = [
    "ada",
    "grace",
    "alan",
    "edsger",
    "barbara",
    "donald",
    "frances",
    "ken",
    "margaret",
    "linus",
    "radia",
    "tim",
    "sophie",
    "john",
    "hedy",
    "dennis",
]
LAST = [
    "lovelace",
    "hopper",
    "turing",
    "dijkstra",
    "liskov",
    "knuth",
    "allen",
    "thompson",
    "hamilton",
    "torvalds",
    "perlman",
    "lee",
    "wilson",
    "backus",
    "lamarr",
    "ritchie",
]
MAIL_DOMAINS = ["gmail.com", "outlook.com", "acme.io", "globex.com", "initech.net"]
COUNTRIES = ["US", "GB", "DE", "FR", "NL", "ES", "IT", "CA"]
CURRENCY_OFFSET = {"USD": -5, "EUR": 1, "GBP": 0}  # the shop's UTC offset, in hours
REGIONS = ["NA", "EMEA", "APAC", "LATAM"]
DEPARTMENTS = ["engineering", "sales", "finance", "hr", "operations", "marketing"]
PLANS = ["MED-PPO", "MED-HMO", "DENTAL", "VISION", "LIFE", "RET-401K"]
STAGES = ["prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost"]
STYLES = ["Classic", "Urban", "Trail", "Smart"]
NOTES = [
    "Asked for a demo next quarter.",
    "Budget approved, waiting on legal.",
    "Met at the Berlin trade fair.",
    "Prefers e-mail over calls.",
    "Evaluating a competitor.",
]


# --- value helpers -----------------------------------------------------------------------------


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    """A money amount between low and high (whole units), with exactly two decimals."""
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


def _pct_of(amount: Decimal, pct: float) -> Decimal:
    return (amount * Decimal(str(round(pct, 2)))).quantize(Decimal("0.01"))


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, (end - start).days))


def _at(day: date, rng: random.Random) -> datetime:
    """A UTC instant on `day`, business hours."""
    return datetime(
        day.year,
        day.month,
        day.day,
        rng.randint(7, 18),
        rng.randint(0, 59),
        rng.randint(0, 59),
        tzinfo=UTC,
    )


def _month_end(index: int) -> date:
    """Last day of month `index` counted from January 2024."""
    year, month = 2024 + (index + 1) // 12, (index + 1) % 12 + 1
    return date(year, month, 1) - timedelta(days=1)


def _name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST), rng.choice(LAST)


def _orphan(prefix: str, digits: int) -> Value:
    """A key that no parent row has: parents number from 1..MAX_ROWS, orphans from 9...."""
    return lambda row, rng: prefix + "9" + str(rng.randrange(10 ** (digits - 1))).zfill(digits - 1)


def _negative(column: str) -> Value:
    return lambda row, rng: -abs(row[column]) - Decimal("1.00")


# --- defect specifications ---------------------------------------------------------------------


@dataclass(frozen=True)
class Defect:
    row: int
    key: Any
    kind: str
    column: str
    value: Any
    rule_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "key": _text(self.key) if self.key is not None else None,
            "kind": self.kind,
            "column": self.column,
            "value": _text(self.value) if self.value is not None else None,
            "rule_ids": list(self.rule_ids),
        }


@dataclass(frozen=True)
class Break:
    """Break one row: set `column` (and the `also` columns that keep other rules satisfied)."""

    kind: str
    column: str
    value: Value
    rule_ids: tuple[str, ...]
    also: Mapping[str, Value] = field(default_factory=dict)
    width = 1

    def apply(self, rows: list[Row], at: list[int], rng: random.Random, pk: str) -> list[Defect]:
        row = rows[at[0]]
        original = dict(row)
        for column, value in (*self.also.items(), (self.column, self.value)):
            row[column] = value(original, rng) if callable(value) else value
        return [Defect(at[0], row[pk], self.kind, self.column, row[self.column], self.rule_ids)]


@dataclass(frozen=True)
class Duplicate:
    """Copy `columns` from one clean row to another: both rows now share the key."""

    columns: tuple[str, ...]
    rule_id: str
    width = 2

    def apply(self, rows: list[Row], at: list[int], rng: random.Random, pk: str) -> list[Defect]:
        first, second = rows[at[0]], rows[at[1]]
        for column in self.columns:
            second[column] = first[column]
        key = first[self.columns[0]]
        return [
            Defect(i, rows[i][pk], "duplicate_key", self.columns[0], key, (self.rule_id,))
            for i in at
        ]


Spec = Break | Duplicate


def _cast(column: str, bad: str) -> Break:
    return Break("cast_failure", column, bad, (f"{column}.type",))


def _null(column: str) -> Break:
    return Break("missing_required", column, None, (f"{column}.required",))


def _enum(column: str, bad: Value, **also: Value) -> Break:
    return Break("unknown_value", column, bad, (f"{column}.accepted_values",), also)


def _rule(rule_id: str, column: str, bad: Value, **also: Value) -> Break:
    return Break("rule_violation", column, bad, (rule_id,), also)


def _fk(column: str, prefix: str, digits: int) -> Break:
    return Break("orphan_foreign_key", column, _orphan(prefix, digits), (f"{column}.references",))


# --- clean rows, one builder per dataset ---------------------------------------------------------
# A builder gets the dataset's rng, the row count and the clean rows of the datasets built before.

Clean = Mapping[str, list[Row]]


def customers(rng: random.Random, n: int, clean: Clean) -> list[Row]:
    rows = []
    for i in range(n):
        first, last = _name(rng)
        segment = rng.choice(["enterprise", "mid_market", "smb", "consumer"])
        signup = _day(rng, date(2015, 1, 1), date(2025, 6, 30))
        rows.append(
            {
                "customer_id": f"CUS-{100000 + i}",
                "email": f"{first}.{last}{i}@{rng.choice(MAIL_DOMAINS)}",
                "full_name": f"{first.title()} {last.title()}",
                "phone": f"+1{rng.randint(2000000000, 9999999999)}" if rng.random() < 0.7 else None,
                "country_code": COUNTRIES[i % len(COUNTRIES)],
                "segment": segment,
                "tax_id": None if segment == "consumer" else _ssn(rng, i),
                "is_active": rng.random() < 0.85,
                "signup_date": signup,
                "created_at": _at(signup, rng),
            }
        )
    return rows


def _ssn(rng: random.Random, i: int) -> str:
    """SSN-like and unique per i (i < MAX_ROWS)."""
    return f"{100 + i // 90:03d}-{10 + i % 90:02d}-{rng.randint(1000, 9999)}"


def products(rng: random.Random, n: int, clean: Clean) -> list[Row]:
    categories = ["apparel", "footwear", "accessories", "home", "electronics"]
    rows = []
    for i in range(n):
        category = categories[i % len(categories)]
        price = _cents(rng, 5, 500)
        rows.append(
            {
                "product_id": f"PRD-{10000 + i}",
                "sku": f"{category[:3].upper()}-{i:04d}",
                "product_name": f"{rng.choice(STYLES)} {category} item {i}",
                "category": category,
                "unit_price": price,
                "unit_cost": _pct_of(price, rng.uniform(0.3, 0.9)),
                "weight_kg": round(rng.uniform(0.1, 20), 3),
                "is_active": rng.random() < 0.9,
                "launched_on": _day(rng, date(2015, 1, 1), date(2025, 6, 30)),
                "updated_at": _at(_day(rng, date(2024, 1, 1), date(2025, 12, 31)), rng),
            }
        )
    return rows


def orders(rng: random.Random, n: int, clean: Clean) -> list[Row]:
    start, span = datetime(2024, 1, 2, tzinfo=UTC), 727 * 86400  # 2024-01-02 .. 2025-12-29 UTC
    rows = []
    for i in range(n):
        # Instants strictly increase with i, so (customer_id, placed_at) is unique by construction.
        placed_at = start + timedelta(seconds=i * (span // n) + rng.randrange(span // n))
        currency = rng.choice(sorted(CURRENCY_OFFSET))
        local = (placed_at + timedelta(hours=CURRENCY_OFFSET[currency])).replace(tzinfo=None)
        amount = round(rng.uniform(5, 2500), 2)
        discount = _cents(rng, 0, int(amount * 0.3)) if rng.random() < 0.6 else None
        rows.append(
            {
                "order_id": f"ORD-{1000000 + i}",
                "customer_id": rng.choice(clean["crm.customers"])["customer_id"],
                "product_id": rng.choice(clean["crm.products"])["product_id"],
                "order_status": rng.choice(["pending", "shipped", "delivered", "returned"]),
                "order_date": local.date(),
                "order_amount": amount,
                "discount_amount": discount,
                "quantity": rng.randint(1, 12),
                "currency": currency,
                "placed_at": placed_at.astimezone(
                    timezone(timedelta(hours=CURRENCY_OFFSET[currency]))
                ),
                "placed_local": local,
            }
        )
    return rows


ACCOUNT_TYPES = {"asset": "1", "liability": "2", "equity": "3", "revenue": "4", "expense": "5"}


def accounts(rng: random.Random, n: int, clean: Clean) -> list[Row]:
    rows = []
    for i in range(n):
        kind = list(ACCOUNT_TYPES)[i % len(ACCOUNT_TYPES)]
        digit = ACCOUNT_TYPES[kind] if kind != "expense" else rng.choice("56")
        balance = _cents(rng, 0, 900000)
        rows.append(
            {
                "account_id": f"{digit}{i:05d}",
                "account_name": f"{kind.title()} account {i}",
                "account_type": kind,
                "cost_center": f"CC-{1000 + i % 50}" if kind in ("revenue", "expense") else None,
                "currency": rng.choice(["USD", "EUR", "GBP"]),
                "is_active": rng.random() < 0.9,
                "opened_on": _day(rng, date(2000, 1, 1), date(2023, 12, 31)),
                "balance": -balance if kind == "liability" else balance,
                "bank_account_iban": _iban(rng) if i % 10 == 0 else None,  # half the asset accounts
                "updated_at": _at(_day(rng, date(2024, 1, 1), date(2025, 12, 31)), rng),
            }
        )
    return rows


def _iban(rng: random.Random) -> str:
    return f"DE{rng.randint(10, 99)}{rng.randrange(10**18):018d}"


def _of_type(clean: Clean, kind: str) -> list[Row]:
    return [a for a in clean["finance.accounts"] if a["account_type"] == kind]


def invoices(rng: random.Random, n: int, clean: Clean) -> list[Row]:
    clean_orders, revenue_accounts = clean["crm.orders"], _of_type(clean, "revenue")
    rows = []
    for i in range(n):
        order = clean_orders[i % len(clean_orders)]
        # One invoice per order and 30-day instalment: (order_id, invoice_date) is unique.
        issued = order["order_date"] + timedelta(days=1 + 30 * (i // len(clean_orders)))
        total = max(Decimal("1.00"), Decimal(str(order["order_amount"])))
        status = rng.choice(["issued", "paid", "paid", "overdue", "draft", "void"])
        rows.append(
            {
                "invoice_id": f"INV-{issued.year}-{100000 + i}",
                "order_id": order["order_id"],
                "account_id": revenue_accounts[i % len(revenue_accounts)]["account_id"],
                "invoice_date": issued,
                "due_date": issued + timedelta(days=rng.choice([14, 30, 45, 60])),
                "total_amount": total,
                "tax_amount": _pct_of(total, rng.uniform(0.05, 0.25)),
                "currency": order["currency"],
                "status": status,
                "paid_at": _at(issued + timedelta(days=rng.randint(0, 40)), rng)
                if status == "paid"
                else None,
            }
        )
    return rows


def revenue(rng: random.Random, n: int, clean: Clean) -> list[Row]:
    revenue_accounts = _of_type(clean, "revenue")
    fx = {"NA": 1.0, "EMEA": 1.08, "APAC": 0.0067, "LATAM": 0.19}
    rows = []
    for i in range(n):
        # (account, month, region) enumerates distinct combinations: unique by construction.
        a, rest = i % len(revenue_accounts), i // len(revenue_accounts)
        period = _month_end(rest % 24).replace(day=1)
        region = REGIONS[(rest // 24) % len(REGIONS)]
        rows.append(
            {
                "revenue_id": 1 + i,
                "account_id": revenue_accounts[a]["account_id"],
                "period_month": period,
                "region": region,
                "recognized_revenue": _cents(rng, 1000, 250000),
                "deferred_revenue": _cents(rng, 0, 50000) if rng.random() < 0.7 else None,
                "fx_rate": round(fx[region] * rng.uniform(0.95, 1.05), 6),
                "is_adjustment": rng.random() < 0.1,
                "posted_at": _at(period + timedelta(days=rng.randint(28, 45)), rng),
            }
        )
    return rows


def employees(rng: random.Random, n: int, clean: Clean) -> list[Row]:
    rows = []
    for i in range(n):
        first, last = _name(rng)
        hired = date(2000, 1, 1) + timedelta(days=i * 9300 // n)  # distinct per i
        left = hired + timedelta(days=rng.randint(30, 2000)) if rng.random() < 0.2 else None
        rows.append(
            {
                "employee_id": f"E{100000 + i}",
                "full_name": f"{first.title()} {last.title()}",
                "work_email": f"{first}.{last}.{i}@company.com",
                "department": DEPARTMENTS[i % len(DEPARTMENTS)],
                "job_level": rng.randint(1, 10),
                "fte": rng.choice([1.0, 1.0, 1.0, 0.8, 0.5]),
                "hire_date": hired,
                "termination_date": left if left and left <= date(2025, 12, 31) else None,
                "national_id": _ssn(rng, i),
                "updated_at": _at(_day(rng, date(2024, 1, 1), date(2025, 12, 31)), rng),
            }
        )
    return rows


def payroll(rng: random.Random, n: int, clean: Clean) -> list[Row]:
    staff, expense_accounts = clean["hr.employees"], _of_type(clean, "expense")
    rows = []
    for i in range(n):
        period_end = _month_end(i // len(staff))  # (employee, period) unique by construction
        gross = _cents(rng, 2000, 15000)
        tax = _pct_of(gross, rng.uniform(0.15, 0.35))
        rows.append(
            {
                "payroll_id": f"PAY-{20000000 + i}",
                "employee_id": staff[i % len(staff)]["employee_id"],
                "gl_account_id": rng.choice(expense_accounts)["account_id"],
                "pay_period_end": period_end,
                "gross_salary": gross,
                "tax_withheld": tax,
                "net_pay": gross - tax,
                "hours_worked": round(rng.uniform(120, 180), 1),
                "bank_account_number": str(rng.randrange(10**7, 10**11))
                if rng.random() < 0.95
                else None,
                "paid_at": _at(period_end + timedelta(days=rng.randint(0, 5)), rng),
            }
        )
    return rows


def benefits(rng: random.Random, n: int, clean: Clean) -> list[Row]:
    staff = clean["hr.employees"]
    rows = []
    for i in range(n):
        tier = rng.choice(["employee", "employee_spouse", "employee_children", "family"])
        waived = rng.random() < 0.1
        effective = _day(rng, date(2024, 1, 1), date(2025, 12, 1))
        rows.append(
            {
                "enrollment_id": 1 + i,
                "employee_id": staff[i % len(staff)]["employee_id"],
                "plan_code": PLANS[(i // len(staff)) % len(PLANS)],
                "coverage_tier": tier,
                "monthly_cost": Decimal("0.00") if waived else _cents(rng, 10, 400),
                "employer_contribution_pct": round(rng.uniform(50, 100), 1)
                if rng.random() < 0.9
                else None,
                "dependents": 0 if tier == "employee" else rng.randint(1, 4),
                "is_waived": waived,
                "effective_date": effective,
                "enrolled_at": _at(effective - timedelta(days=rng.randint(1, 30)), rng),
            }
        )
    return rows


def leads(rng: random.Random, n: int, clean: Clean) -> list[Row]:
    rows = []
    for i in range(n):
        first, last = _name(rng)
        score = rng.randint(0, 100)
        created = _day(rng, date(2024, 1, 1), date(2025, 11, 30))
        rows.append(
            {
                "lead_id": f"LD-{100000 + i}",
                "email": f"{first}.{last}{i}@{rng.choice(MAIL_DOMAINS)}",
                "company_name": f"{last.title()} {rng.choice(['GmbH', 'Ltd', 'Inc', 'BV'])}"
                if rng.random() < 0.8
                else None,
                "lead_source": rng.choice(["web", "referral", "event", "outbound", "partner"]),
                "score": score,
                "estimated_value": round(rng.uniform(500, 80000), 2),
                "is_qualified": score >= 50 and rng.random() < 0.7,
                "created_date": created,
                "last_contacted_at": _at(created + timedelta(days=rng.randint(0, 30)), rng)
                if rng.random() < 0.7
                else None,
                "notes": rng.choice(NOTES) if rng.random() < 0.5 else None,
            }
        )
    return rows


def pipeline(rng: random.Random, n: int, clean: Clean) -> list[Row]:
    start, span = datetime(2024, 1, 2, tzinfo=UTC), 570 * 86400  # created before 2025-07-26
    rows = []
    for i in range(n):
        stage = rng.choice(STAGES)
        created = start + timedelta(seconds=i * (span // n) + rng.randrange(span // n))
        probability = {"closed_won": 1.0, "closed_lost": 0.0}.get(
            stage, rng.choice([0.1, 0.25, 0.5, 0.75, 0.9])
        )
        rows.append(
            {
                "opportunity_id": f"OPP-{100000 + i}",
                "customer_id": rng.choice(clean["crm.customers"])["customer_id"],
                "lead_id": rng.choice(clean["sales.leads"])["lead_id"]
                if rng.random() < 0.6
                else None,
                "stage": stage,
                "amount": _cents(rng, 1000, 250000),
                "probability": probability,
                "expected_close_date": created.date() + timedelta(days=rng.randint(10, 150)),
                "owner_email": f"rep{rng.randint(1, 25):02d}@company.com",
                "is_closed": stage.startswith("closed"),
                "created_at": created,
            }
        )
    return rows


def forecasts(rng: random.Random, n: int, clean: Clean) -> list[Row]:
    quarters = [f"FY{y}-Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)]
    rows = []
    for i in range(n):
        # owner = i // 32, quarter = (i // 4) % 8, region = i % 4: unique by construction.
        quarter = (i // 4) % 8
        quota = _cents(rng, 100000, 1000000)
        forecast = _pct_of(quota, rng.uniform(0.5, 1.5))
        qstart = date(2024 + quarter // 4, 3 * (quarter % 4) + 1, 1)
        rows.append(
            {
                "forecast_id": f"FC-{100000 + i}",
                "owner_email": f"rep{i // 32:03d}@company.com",
                "region": REGIONS[i % 4],
                "fiscal_quarter": quarters[quarter],
                "quota_amount": quota,
                "forecast_amount": forecast,
                "commit_amount": _pct_of(forecast, rng.uniform(0.4, 0.9))
                if rng.random() < 0.8
                else None,
                "confidence": rng.choice(["low", "medium", "high"]),
                "is_final": rng.random() < 0.5,
                "submitted_at": _at(qstart + timedelta(days=rng.randint(0, 80)), rng),
            }
        )
    return rows


# --- the datasets, in dependency order (parents before children) --------------------------------

Builder = Callable[[random.Random, int, Clean], list[Row]]
SSN_NOTE = "Called back; customer gave SSN 123-45-6789 to verify identity."

DATASETS: dict[str, tuple[Builder, tuple[Spec, ...]]] = {
    "crm.customers": (
        customers,
        (
            Duplicate(("customer_id",), "customer_id.unique"),
            _null("customer_id"),
            Break(
                "pattern_mismatch",
                "email",
                lambda r, g: r["email"].replace("@", "_at_"),
                ("email.pattern",),
            ),
            _enum("country_code", "XX"),
            Break(
                "pattern_mismatch",
                "tax_id",
                "123456789",
                ("tax_id.pattern",),
                {"segment": "enterprise"},
            ),
            Break("pattern_mismatch", "phone", "555-0100", ("phone.pattern",)),
            _cast("signup_date", "2024-13-45"),
        ),
    ),
    "crm.products": (
        products,
        (
            _rule("unit_price_non_negative", "unit_price", _negative("unit_price"), unit_cost=None),
            _enum("category", "toys"),
            Break("pattern_mismatch", "sku", lambda r, g: r["sku"].lower(), ("sku.pattern",)),
            _null("product_name"),
            Duplicate(("product_id",), "product_id.unique"),
            _cast("weight_kg", "abc"),
        ),
    ),
    "crm.orders": (
        orders,
        (
            _null("order_id"),
            _cast("order_amount", "abc"),
            _cast("order_date", "2024-13-45"),
            _rule(
                "order_amount_non_negative",
                "order_amount",
                lambda r, g: -r["order_amount"],
                discount_amount=None,
            ),
            _enum("order_status", "lost"),
            Break(
                "rule_violation",
                "order_status",
                "unknown",
                ("order_status.accepted_values", "order_amount_non_negative"),
                {"order_amount": lambda r, g: -r["order_amount"], "discount_amount": None},
            ),
            _fk("customer_id", "CUS-", 6),
            Duplicate(("order_id",), "order_id.unique"),
            Break("out_of_range", "quantity", 0, ("quantity.range",)),
        ),
    ),
    "finance.accounts": (
        accounts,
        (
            Duplicate(("account_id", "account_type", "bank_account_iban"), "account_id.unique"),
            _enum(
                "account_type",
                "contra",
                account_id=lambda r, g: "5" + r["account_id"][1:],
                bank_account_iban=None,
            ),
            Break(
                "pattern_mismatch",
                "bank_account_iban",
                "DE12",
                ("bank_account_iban.pattern",),
                {"account_type": "asset", "account_id": lambda r, g: "1" + r["account_id"][1:]},
            ),
            _rule(
                "iban_only_on_asset_accounts",
                "bank_account_iban",
                lambda r, g: _iban(g),
                account_type="liability",
                account_id=lambda r, g: "2" + r["account_id"][1:],
            ),
            _null("account_name"),
            _cast("opened_on", "2024-13-45"),
        ),
    ),
    "finance.invoices": (
        invoices,
        (
            _fk("order_id", "ORD-", 7),
            _cast("total_amount", "abc"),
            _rule("tax_amount_non_negative", "tax_amount", Decimal("-5.00")),
            _rule(
                "due_within_90_days", "due_date", lambda r, g: r["invoice_date"] - timedelta(days=5)
            ),
            _rule("paid_invoices_have_paid_at", "paid_at", None, status="paid"),
            _enum("status", "cancelled", paid_at=None),
            Duplicate(("invoice_id",), "invoice_id.unique"),
            _cast("invoice_date", "2024-13-45"),
        ),
    ),
    "finance.revenue": (
        revenue,
        (  # Parquet keeps types: no cast failures here
            _null("account_id"),
            _rule(
                "recognized_revenue_non_negative",
                "recognized_revenue",
                _negative("recognized_revenue"),
            ),
            _enum(
                "region",
                lambda r, g: {"NA": "US", "EMEA": "EU", "APAC": "ANZ", "LATAM": "BR"}[r["region"]],
            ),
            Duplicate(("revenue_id",), "revenue_id.unique"),
            _fk("account_id", "49", 4),
            _rule("fx_rate_plausible", "fx_rate", 0.0),
        ),
    ),
    "hr.employees": (
        employees,
        (
            _null("employee_id"),
            Duplicate(("employee_id",), "employee_id.unique"),
            Break(
                "pattern_mismatch",
                "national_id",
                lambda r, g: r["national_id"].replace("-", ""),
                ("national_id.pattern",),
            ),
            _rule(
                "terminated_after_hire",
                "termination_date",
                lambda r, g: r["hire_date"] - timedelta(days=10),
            ),
            _enum("department", "legal"),
            Break("out_of_range", "job_level", 42, ("job_level.range",)),
            _cast("hire_date", "2024-13-45"),
            _cast("fte", "abc"),
        ),
    ),
    "hr.payroll": (
        payroll,
        (
            _fk("employee_id", "E", 6),
            _cast("gross_salary", "abc"),
            _rule(
                "tax_withheld_non_negative",
                "tax_withheld",
                Decimal("-50.00"),
                net_pay=lambda r, g: r["gross_salary"] + Decimal("50.00"),
            ),
            _rule("net_pay_balances", "net_pay", lambda r, g: r["net_pay"] + Decimal("100.00")),
            Break(
                "pattern_mismatch",
                "bank_account_number",
                "DE-ACCT",
                ("bank_account_number.pattern",),
            ),
            Duplicate(("payroll_id",), "payroll_id.unique"),
            _cast("pay_period_end", "2024-13-45"),
        ),
    ),
    "hr.benefits": (
        benefits,
        (
            _fk("employee_id", "E", 6),
            _enum("plan_code", lambda r, g: r["plan_code"] + "-OLD"),
            _rule("waived_plans_cost_nothing", "monthly_cost", Decimal("55.00"), is_waived=True),
            _rule("monthly_cost_non_negative", "monthly_cost", Decimal("-20.00"), is_waived=False),
            Duplicate(("employee_id", "plan_code"), "one_enrollment_per_plan"),
            _cast("effective_date", "2024-13-45"),
            _rule("employee_tier_has_no_dependents", "dependents", 2, coverage_tier="employee"),
        ),
    ),
    "sales.leads": (
        leads,
        (
            _cast("score", "abc"),
            _rule("qualified_leads_score_50", "score", 20, is_qualified=True),
            Break("pii_in_free_text", "notes", SSN_NOTE, ("no_national_id_in_notes",)),
            _enum("lead_source", "tradeshow"),
            _null("email"),
            Duplicate(("lead_id",), "lead_id.unique"),
            Break("out_of_range", "score", 150, ("score.range",)),
        ),
    ),
    "sales.pipeline": (
        pipeline,
        (
            _fk("customer_id", "CUS-", 6),
            _fk("lead_id", "LD-", 6),
            _rule("amount_non_negative", "amount", _negative("amount")),
            _rule(
                "probability_matches_stage", "probability", 0.3, stage="closed_won", is_closed=True
            ),
            _enum("stage", "on_hold", is_closed=False, probability=0.5),
            _cast("expected_close_date", "2024-13-45"),
            Break(
                "out_of_range",
                "probability",
                1.7,
                ("probability.range", "probability_matches_stage"),
                {"stage": "proposal", "is_closed": False},
            ),
            Duplicate(("opportunity_id",), "opportunity_id.unique"),
        ),
    ),
    "sales.forecasts": (
        forecasts,
        (
            Break(
                "pattern_mismatch",
                "fiscal_quarter",
                lambda r, g: r["fiscal_quarter"].replace("-Q", "-q"),
                ("fiscal_quarter.pattern",),
            ),
            _rule(
                "commit_within_forecast",
                "commit_amount",
                lambda r, g: r["forecast_amount"] + Decimal("1000.00"),
            ),
            _rule("commit_amount_non_negative", "commit_amount", Decimal("-10.00")),
            _enum(
                "region",
                lambda r, g: {"NA": "N.A.", "EMEA": "EU", "APAC": "ASIA", "LATAM": "SA"}[
                    r["region"]
                ],
            ),
            Duplicate(("forecast_id",), "forecast_id.unique"),
            _cast("forecast_amount", "abc"),
            _null("owner_email"),
        ),
    ),
}


# --- writing -------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """How a value is spelled in CSV (and, for dates/decimals, in JSON)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%Y-%m-%d %H:%M:%S")
        if value.utcoffset() == timedelta(0):
            return value.strftime("%Y-%m-%dT%H:%M:%SZ")
        return value.isoformat()
    if isinstance(value, (date, Decimal)):
        return str(value)
    return repr(value) if isinstance(value, float) else str(value)


def _json_value(value: Any) -> Any:
    """NDJSON keeps numbers and booleans native; decimals travel as strings (as Shopify sends)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return _text(value)


def _csv_bytes(columns: list[str], rows: list[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_text(r[c]) for c in columns] for r in rows)
    return out.getvalue().encode()


def _ndjson_bytes(columns: list[str], rows: list[Row]) -> bytes:
    lines = [json.dumps({c: _json_value(r[c]) for c in columns}, ensure_ascii=False) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def _parquet_bytes(fields: list[dict[str, Any]], rows: list[Row]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {
        f["name"]: pa.array([r[f["name"]] for r in rows], type=_arrow_type(f["type"]))
        for f in fields
    }
    out = io.BytesIO()
    pq.write_table(pa.table(arrays), out)
    return out.getvalue()


def _arrow_type(logical: str) -> Any:
    import pyarrow as pa

    norm = " ".join(logical.lower().split())
    if norm.startswith(("decimal", "numeric")):
        precision, scale = norm[norm.index("(") + 1 : -1].split(",")
        return pa.decimal128(int(precision), int(scale))
    return {
        "string": pa.string(),
        "integer": pa.int64(),
        "float": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
        "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    }[norm]


# --- the pipeline --------------------------------------------------------------------------------


@dataclass
class Landed:
    contract: dict[str, Any]
    rows: list[Row]
    defects: list[Defect]

    @property
    def clean(self) -> list[Row]:
        broken = {d.row for d in self.defects}
        return [r for i, r in enumerate(self.rows) if i not in broken]


def _load_contracts(contracts_dir: Path) -> dict[str, dict[str, Any]]:
    yaml = YAML(typ="safe")
    out = {}
    for path in sorted(contracts_dir.rglob("*.yaml")):
        data = yaml.load(path)
        if isinstance(data, dict) and "source" in data:
            out[f"{data['info']['domain']}.{data['info']['name']}"] = data
    return out


def _land(ref: str, contract: dict[str, Any], rows: int, seed: int, clean: Clean) -> Landed:
    builder, specs = DATASETS[ref]
    rng = random.Random(f"{seed}/{ref}")  # str seeds are hashed with SHA-512: stable across runs
    data = builder(rng, rows, clean)
    pk = next(f["name"] for f in contract["model"]["fields"] if f.get("primary_key"))
    per_kind = max(1, rows // 200)
    plan = [spec for spec in specs for _ in range(per_kind)]
    slots = rng.sample(range(rows), sum(spec.width for spec in plan))
    defects: list[Defect] = []
    for spec in plan:
        at, slots = slots[: spec.width], slots[spec.width :]
        defects.extend(spec.apply(data, at, rng, pk))
    return Landed(contract, data, sorted(defects, key=lambda d: d.row))


def _write(root: Path, landed: Landed) -> None:
    source, fields = landed.contract["source"], landed.contract["model"]["fields"]
    columns = [f["name"] for f in fields]
    fmt = source["format"]
    if fmt == "csv":
        payload = _csv_bytes(columns, landed.rows)
    elif fmt == "ndjson":
        payload = _ndjson_bytes(columns, landed.rows)
    elif fmt == "parquet":
        payload = _parquet_bytes(fields, landed.rows)
    else:
        raise ValueError(f"generate_landing does not write {fmt!r} sources")
    target = root / source["path"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(payload)


def generate(
    root: Path, rows: int = 200, seed: int = 7, *, contracts_dir: Path = CONTRACTS
) -> dict[str, Any]:
    """Write every landing file and the defect manifest under `root`; return the manifest."""
    if not MIN_ROWS <= rows <= MAX_ROWS:
        raise ValueError(f"rows must be between {MIN_ROWS} and {MAX_ROWS}, got {rows}")
    contracts = _load_contracts(contracts_dir)
    missing = sorted(set(DATASETS) ^ set(contracts))
    if missing:
        raise ValueError(f"contracts and generator disagree about these datasets: {missing}")
    clean: dict[str, list[Row]] = {}
    datasets: dict[str, Any] = {}
    for ref in DATASETS:
        landed = _land(ref, contracts[ref], rows, seed, clean)
        _write(Path(root), landed)
        clean[ref] = landed.clean
        source = landed.contract["source"]
        datasets[ref] = {
            "path": source["path"],
            "format": source["format"],
            "rows": rows,
            "primary_key": next(
                f["name"] for f in landed.contract["model"]["fields"] if f.get("primary_key")
            ),
            "defects": [d.to_json() for d in landed.defects],
        }
    manifest = {
        "generator": {"script": "examples/generate_landing.py", "rows": rows, "seed": seed},
        "datasets": datasets,
    }
    path = Path(root) / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--root", type=Path, default=Path("."), help="where landing/ is written (default: .)"
    )
    parser.add_argument(
        "--rows", type=int, default=200, help=f"rows per dataset, {MIN_ROWS}..{MAX_ROWS}"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--contracts", type=Path, default=CONTRACTS, help="the contracts directory")
    args = parser.parse_args(argv)
    try:
        manifest = generate(args.root, args.rows, args.seed, contracts_dir=args.contracts)
    except ValueError as exc:
        parser.error(str(exc))
    count = sum(len(d["defects"]) for d in manifest["datasets"].values())
    print(
        f"wrote {len(manifest['datasets'])} datasets and {count} defect rows "
        f"under {args.root / 'landing'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
