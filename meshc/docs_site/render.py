"""Render the collected mesh as a static site: index.html plus products/<domain>.<name>.html.

Pages are self-contained (inline CSS and SVG, no script, no network), so the site opens from
disk. The output folder is refused unless it is empty, new, or a site meshc built before (marked
by `.meshc-docs`): building never overwrites somebody else's files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from meshc.docs_site.collect import MeshDoc, ProductDoc
from meshc.errors import MeshcError

MARKER = ".meshc-docs"


def write_site(mesh: MeshDoc, out: Path) -> list[Path]:
    """Write every page under `out`; returns the paths written, index first."""
    _prepare(out)
    env = _environment()
    common = {"mesh": mesh, "version": _version(), "generated": _now()}
    from meshc.docs_site.lineage_graph import lineage_svg

    index = env.get_template("index.html").render(
        **common,
        title=f"{mesh.name}: data products",
        home="index.html",
        lineage=_markup(lineage_svg(mesh, mesh.products, lambda r: f"products/{r}.html")),
        total_runs=sum(p.runs.total for p in mesh.products.values()),
    )
    written = [_write(out / "index.html", index)]
    template = env.get_template("product.html")
    for product in mesh.products.values():
        page = template.render(**common, **_product_context(mesh, product))
        written.append(_write(out / product.page, page))
    return written


def _product_context(mesh: MeshDoc, p: ProductDoc) -> dict[str, Any]:
    from meshc.docs_site.charts import pass_rate_chart, quarantine_chart
    from meshc.docs_site.lineage_graph import lineage_svg, related

    severity = {r.id: r.severity for r in p.row_rules}
    runs = p.runs.runs
    graph = lineage_svg(
        mesh, related(mesh, p.ref), lambda r: f"{r}.html", focus=p.ref, title=f"Lineage of {p.ref}"
    )
    return {
        "p": p,
        "title": f"{p.ref}: {mesh.name}",
        "home": "../index.html",
        "pass_chart": _markup(pass_rate_chart(runs)) if runs else "",
        "quarantine_chart": _markup(quarantine_chart(runs, severity)) if runs else "",
        "lineage": _markup(graph),
    }


def _environment() -> Any:
    try:
        import jinja2
    except ImportError:
        raise MeshcError(
            "meshc docs needs Jinja2: pip install 'meshc[docs]' (or pip install jinja2)"
        ) from None
    from meshc.docs_site.templates import CSP, CSS, TEMPLATES

    env = jinja2.Environment(
        loader=jinja2.DictLoader(TEMPLATES),
        autoescape=True,  # every page: contract text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(csp=CSP, css=_markup(CSS))
    env.filters.update(pct=_pct, constraints=_constraints, when=_when)
    return env


def _markup(html: str) -> Any:
    """Text already safe for HTML (ElementTree-escaped SVG, our own CSS)."""
    from markupsafe import Markup

    return Markup(html)  # noqa: S704 - built by ElementTree / written here, never contract text


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def _when(iso: str) -> str:
    """A recorded ISO time in UTC to the second; a value that is not one is shown as given."""
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if moment.tzinfo else "")


def _constraints(f: Any) -> str:
    """A field's value constraints in one line (escaped by the template like any text)."""
    parts = []
    if f.accepted_values is not None:
        parts.append("one of " + ", ".join(str(v) for v in f.accepted_values))
    if f.min is not None:
        parts.append(f">= {f.min}")
    if f.max is not None:
        parts.append(f"<= {f.max}")
    if f.pattern is not None:
        parts.append(f"matches {f.pattern}")
    if f.max_length is not None:
        parts.append(f"at most {f.max_length} characters")
    if f.references is not None:
        parts.append(f"references {f.references}")
    return "; ".join(parts)


def _prepare(out: Path) -> None:
    """Create `out` (and products/), or reuse a folder meshc built; refuse anything else."""
    if out.exists() and not out.is_dir():
        raise MeshcError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise MeshcError(
            f"{out}: folder is not empty and was not built by meshc docs; "
            "choose an empty or new folder for --out"
        )
    (out / "products").mkdir(parents=True, exist_ok=True)
    for stale in (out / "products").glob("*.html"):  # pages of contracts since removed
        stale.unlink()
    (out / MARKER).write_text("built by `meshc docs`; the folder is rebuilt on each run\n")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _version() -> str:
    from meshc import __version__

    return __version__


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
