"""`meshc docs`: the static data-product site, built by the real CLI on a copy of the example mesh
after real runs, read as HTML, and loaded in headless Chromium (Debian's package)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEST_MASKING_KEY

sys.path.insert(0, str(ROOT / "examples"))

from generate_landing import generate  # noqa: E402

HOSTILE_DESCRIPTION = "<script>alert('description')</script> & <b>bold</b>"
HOSTILE_SQL_VALUE = "<img src=x onerror=alert(1)>"
HOSTILE_RULE_DESCRIPTION = "</td></tr></table><script>alert(2)</script>"
HOSTILE_SYSTEM = 'shop"><svg onload=alert(3)>'
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # git must not find a repository above the test's folder (a TMPDIR inside a checkout)
    env = {
        **os.environ,
        "MESHC_MASKING_KEY": TEST_MASKING_KEY,
        "GIT_CEILING_DIRECTORIES": str(cwd.parent),
    }
    env.pop("MESHC_MASKING_KEY_FILE", None)
    return subprocess.run(
        [sys.executable, "-m", "meshc", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=meshc test", "-c", "user.email=test@company.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _copy_mesh(into: Path) -> Path:
    shutil.copy(ROOT / "mesh.yaml", into / "mesh.yaml")
    shutil.copytree(ROOT / "contracts", into / "contracts")
    generate(into, rows=50)
    return into


def _edit_orders(mesh: Path) -> None:
    """A consumer-breaking change (a widened enum, no major bump) plus hostile text in the
    places contract authors write free text: descriptions, rule SQL, the source system."""
    path = mesh / "contracts" / "crm" / "orders.yaml"
    text = path.read_text()
    text = text.replace(
        "accepted_values: [pending, shipped, delivered, returned]",
        "accepted_values: [pending, shipped, delivered, returned, cancelled]",
    )
    text = text.replace(
        "description: One row per Shopify order, exported hourly as CSV.",
        f'description: "{HOSTILE_DESCRIPTION}"',
    )
    text = text.replace("system: shopify", f"system: '{HOSTILE_SYSTEM}'")
    text = text.replace(
        "  row_rules:\n",
        "  row_rules:\n"
        "    - name: no_markup_status\n"
        f"      sql: \"order_status <> '{HOSTILE_SQL_VALUE}'\"\n"
        f'      description: "{HOSTILE_RULE_DESCRIPTION}"\n',
    )
    path.write_text(text)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example mesh in a git repository: one commit, `meshc mesh`, a second commit that
    widens an enum and adds hostile text, `meshc run -c` on orders, then `meshc docs`."""
    mesh = _copy_mesh(tmp_path_factory.mktemp("mesh"))
    _git(mesh, "init", "-q")
    _git(mesh, "add", "mesh.yaml", "contracts")
    _git(mesh, "commit", "-q", "-m", "the example mesh")
    first = _cli("mesh", cwd=mesh)
    assert first.returncode == 0, first.stdout + first.stderr
    _edit_orders(mesh)
    _git(mesh, "commit", "-q", "-am", "orders: cancelled orders; a status rule")
    second = _cli("run", "-c", "contracts/crm/orders.yaml", cwd=mesh)
    assert second.returncode == 0, second.stdout + second.stderr
    built = _cli("docs", "--out", "site", cwd=mesh)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "open site/index.html" in built.stdout
    return mesh / "site"


def _pages(site: Path) -> list[Path]:
    return [site / "index.html", *sorted((site / "products").glob("*.html"))]


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.mark.slow
def test_index_shows_the_mesh_by_domain_and_its_lineage(site: Path) -> None:
    index = (site / "index.html").read_text()
    assert "company_mesh" in index
    for domain, owner in [
        ("crm", "crm-engineering@company.com"),
        ("finance", "finance-data@company.com"),
        ("gold", "analytics-engineering@company.com"),
    ]:
        assert f'id="domain-{domain}"' in index and owner in index
    links = {a.get("href") for tag, a in _tags(index) if tag == "a"}
    assert len(list((site / "products").glob("*.html"))) == 15
    assert {f"products/{p.name}" for p in (site / "products").glob("*.html")} <= links
    assert 'class="chart lineage-graph"' in index
    assert "16 recorded runs" in index  # 15 products by `meshc mesh`, orders once more


@pytest.mark.slow
def test_product_page_shows_schema_rules_owner_and_runs(site: Path) -> None:
    orders = (site / "products" / "crm.orders.html").read_text()
    for text in [
        "crm-engineering@company.com",  # owner
        "<code>order_amount</code>",  # schema
        "<code>decimal(10,2)</code>",
        "<code>order_amount &gt;= 0</code>",  # a rule's SQL, escaped
        "unusually_large_order",
        "warn",
        "2 recorded runs",
        "Pass rate by run",
        "Failing rows by rule, per run",
        "order_amount.type (error)",  # a rule in the quarantine chart's legend
        "gold.revenue_analytics",  # used by
    ]:
        assert text in orders, text
    record = site.parent / "lakehouse" / "_meshc" / "runs" / "crm" / "orders" / "latest.json"
    failures = json.loads(record.read_text())["rule_failures"]  # what the runner now records
    assert failures["order_amount.type"] >= 1 and failures["no_markup_status"] == 0
    customers = (site / "products" / "crm.customers.html").read_text()
    row = customers.split("<code>tax_id</code>")[1].split("</tr>")[0]
    assert "<td>yes</td>" in row and "<td>hash</td>" in row  # PII, masking


@pytest.mark.slow
def test_version_history_from_git_marks_breaking_changes(site: Path) -> None:
    orders = (site / "products" / "crm.orders.html").read_text()
    history = orders.split('id="history"')[1].split('id="lineage"')[0]
    assert "orders: cancelled orders; a status rule" in history
    assert "the example mesh" in history
    assert "accepted_values_widened" in history
    assert 'class="breaking"' in history and "breaks the consumer" in history
    assert "Breaking without a major version bump." in history  # 2.0.0 stayed 2.0.0
    assert "not in a git repository" not in history


@pytest.mark.slow
def test_contract_text_cannot_inject_markup(site: Path) -> None:
    for page in _pages(site):
        html = page.read_text()
        for tag, attrs in _tags(html):
            assert tag not in ("script", "img", "iframe", "object"), (page.name, tag)
            handlers = [a for a in attrs if a.startswith("on")]
            assert not handlers, (page.name, tag, handlers)
    orders = (site / "products" / "crm.orders.html").read_text()
    assert "&lt;script&gt;alert(&#39;description&#39;)&lt;/script&gt; &amp; &lt;b&gt;" in orders
    assert "&lt;img src=x onerror=alert(1)&gt;" in orders
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(2)" in orders
    index = (site / "index.html").read_text()
    assert "&lt;svg onload=alert(3)&gt; (source system)" in index  # in the lineage SVG


def test_a_site_without_runs_says_so_per_product(tmp_path: Path) -> None:
    mesh = _copy_mesh(tmp_path)
    runs = mesh / "lakehouse" / "_meshc" / "runs" / "crm" / "orders"
    runs.mkdir(parents=True)
    (runs / "0123.json").write_text("{not json")
    built = _cli("docs", "--out", "site", cwd=mesh)
    assert built.returncode == 0, built.stderr
    for page in (mesh / "site" / "products").glob("*.html"):
        html = page.read_text()
        assert 'class="note no-runs"' in html and "No runs recorded yet" in html, page.name
        assert "chart-pass-rate" not in html and "chart-quarantine" not in html
        assert "not in a git repository: only the current version is shown" in html
    orders = (mesh / "site" / "products" / "crm.orders.html").read_text()
    assert "<code>0123.json</code>: not JSON" in orders  # listed, not charted, no crash
    # and said where the user is looking, not only on a page they may never open
    assert (
        f"warning: {(runs / '0123.json').relative_to(mesh)}: unreadable run record, not charted: not JSON"
        in (built.stderr)
    )


def test_out_folder_of_other_files_is_refused(tmp_path: Path) -> None:
    mesh = _copy_mesh(tmp_path)
    (mesh / "site").mkdir()
    (mesh / "site" / "notes.txt").write_text("mine")
    refused = _cli("docs", "--out", "site", cwd=mesh)
    assert refused.returncode == 2
    assert "not empty and was not built by meshc docs" in refused.stderr
    assert (mesh / "site" / "notes.txt").read_text() == "mine"
    assert _cli("docs", "--out", "built", cwd=mesh).returncode == 0
    assert _cli("docs", "--out", "built", cwd=mesh).returncode == 0  # rebuilding its own site


def test_chart_text_is_escaped_by_the_svg_writer() -> None:
    from meshc.docs_site.charts import pass_rate_chart, quarantine_chart
    from meshc.docs_site.runs import RunPoint

    rule = "<script>alert(1)</script>"
    runs = [
        RunPoint("r1", "2026-01-01T00:00:00+00:00", "polars", "ok", 10, 9, 1, "1", {rule: 1}),
        RunPoint("r2", "2026-01-02T00:00:00+00:00", "polars", "failed", 10, 5, 5, "1", None),
    ]
    for svg in (pass_rate_chart(runs), quarantine_chart(runs, {rule: "warn"})):
        tree = ET.fromstring(svg)  # well-formed: the text stayed text
        assert not [e for e in tree.iter() if e.tag.endswith("script")]
    legend = quarantine_chart(runs, {rule: "warn"})
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (warn)" in legend
    assert "no per-rule counts" in legend  # a record written before rule_failures existed


@pytest.mark.parametrize(
    "record",
    ['{"contract": "crm.orders", "counts": {}}', '{"contract": [], "counts": {}}',
     '{"contract": {"ref": "crm.orders"}, "counts": [1]}', '{"bad json', "[1, 2]", "\xff"],
)  # fmt: skip
def test_a_malformed_run_record_is_listed_as_unreadable_not_a_crash(
    tmp_path: Path, record: str
) -> None:
    from meshc.docs_site.runs import load_runs, runs_folder

    folder = runs_folder(tmp_path, "crm", "orders")
    folder.mkdir(parents=True)
    (folder / "r1.json").write_text(record)
    (folder / "r2.json").mkdir()  # not even a file
    history = load_runs(tmp_path, "crm", "orders")
    assert history.runs == []
    assert [name for name, _why in history.unreadable] == ["r1.json", "r2.json"]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium through Playwright. Skipped only when it is missing and cannot be
    installed (not root); as root (CI), scripts/system-deps.sh installs it, so missing fails."""
    executable = _chromium()
    if executable is None:
        if os.geteuid() != 0:
            pytest.skip(
                "chromium is not installed and installing it needs root: apt-get install chromium"
            )
        pytest.fail(
            "chromium is missing: scripts/system-deps.sh (run by scripts/test.sh) installs it"
        )
    import tempfile

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield context
        context.close()


@pytest.mark.slow
def test_every_page_loads_in_chromium_without_errors_and_shows_its_charts(
    site: Path, browser: object
) -> None:
    problems: list[str] = []
    page = browser.new_page()  # type: ignore[attr-defined]
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    for path in _pages(site):
        page.goto(path.as_uri())
        charts = page.locator("svg.chart")
        boxes = [charts.nth(i).bounding_box() for i in range(charts.count())]
        want = 1 if path.name == "index.html" else 3  # lineage; + pass rate and quarantine
        assert len(boxes) == want, (path.name, len(boxes))
        assert all(b and b["width"] > 100 and b["height"] > 100 for b in boxes), (path.name, boxes)
        assert page.title()
    assert not problems, problems
    # the check is not vacuous: a script that slipped into a page is refused by the page's
    # Content-Security-Policy and shows up as a console error
    tampered = site / "tampered.html"
    html = (site / "index.html").read_text()
    tampered.write_text(html.replace("</main>", "<script>console.log('ran')</script></main>"))
    page.goto(tampered.as_uri())
    tampered.unlink()
    assert any("Content Security Policy" in p for p in problems), problems
    page.close()
