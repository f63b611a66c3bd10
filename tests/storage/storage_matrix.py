"""The `## Support matrix` section of docs/storage.md, generated from meshc/storage/support.py.

    python -m tests.storage.storage_matrix          # rewrite the section in docs/storage.md

tests/storage/test_storage_check.py fails when the section and SUPPORT/REQUIRES disagree. Only that
section is rewritten: the other sections of the page are written by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

from meshc.storage.support import ENGINES, REQUIRES, STORAGES, SUPPORT

DOC = Path(__file__).resolve().parents[2] / "docs" / "storage.md"
HEADING = "## Support matrix"
# the section up to the next heading (or the end), without the blank lines before it
_SECTION = re.compile(r"^## Support matrix\n.*?(?=\n*(?:^## |\Z))", re.S | re.M)
_EXAMPLES = {
    "files": "`landing/orders/*.csv`",
    "objects": "`s3://bucket/landing/*.csv`",
    "delta": "`lake/orders` + `format: delta`",
    "postgresql": "`postgresql://host:5432/db#public.orders`",
    "duckdb": "`duckdb:warehouse.duckdb#main.orders`",
}


def render() -> str:
    """The section, heading included, without a final newline."""
    notes: list[str] = []  # each distinct "how", numbered by first appearance

    def cell(engine: str, storage: str) -> str:
        found = SUPPORT[(engine, storage)]
        if found.how not in notes:
            notes.append(found.how)
        return f"{'yes' if found.supported else 'no'} ({notes.index(found.how) + 1})"

    lines = [
        HEADING,
        "",
        "Generated from `meshc/storage/support.py` by `python -m tests.storage.storage_matrix`",
        "(a test compares them). Each engine reads sources from and writes outputs to:",
        "",
        "| engine | " + " | ".join(STORAGES) + " |",
        "|---|" + "---|" * len(STORAGES),
    ]
    lines += [f"| {e} | " + " | ".join(cell(e, s) for s in STORAGES) + " |" for e in ENGINES]
    lines.append("")
    lines += [f"- ({i}) {how}." for i, how in enumerate(notes, 1)]
    lines += [
        "",
        "| storage | example location | Python module | install |",
        "|---|---|---|---|",
    ]
    for storage in STORAGES:
        module, extra = REQUIRES.get(storage, ("", ""))
        lines.append(
            f"| {storage} | {_EXAMPLES.get(storage, '')} | "
            + (f"`{module}` | `pip install '{extra}'` |" if module else "(none) | |")
        )
    lines += [
        "",
        "`meshc check` warns (MC226, with the install hint) when a contract's storage needs a "
        "module",
        "that is not installed where it runs; `meshc check --strict` fails on that warning.",
    ]
    return "\n".join(lines)


def current(text: str) -> str | None:
    found = _SECTION.search(text)
    return found.group(0) if found else None


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    section = current(text)
    if section is None:
        raise SystemExit(f"{DOC}: no '{HEADING}' section to rewrite")
    DOC.write_text(text.replace(section, render()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
