"""OpenLineage through openlineage-python: events reach a real HTTP endpoint, START/COMPLETE (or
FAIL) per run, schema and data-quality facets, and dataset names that link a producer's output to
its consumers' inputs. The endpoint is a plain http.server on 127.0.0.1 that the test starts."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, TEST_MASKING_KEY

sys.path.insert(0, str(ROOT / "examples"))
from generate_landing import generate  # noqa: E402


class Collector(http.server.ThreadingHTTPServer):
    """A lineage backend stand-in: keeps every JSON body POSTed to it, in arrival order."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.events: list[dict[str, Any]] = []
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.paths.append(self.path)
        self.server.events.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _meshc(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real CLI, with no OpenLineage configuration but what the test gives."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENLINEAGE")}
    clean.update(MESHC_MASKING_KEY=TEST_MASKING_KEY, HOME=str(cwd), **env)
    return subprocess.run(
        [sys.executable, "-m", "meshc", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _by_job(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    jobs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        jobs[event["job"]["name"]].append(event)
    return jobs


def _datasets(items: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in items}


def _file(path: Path) -> tuple[str, str]:
    """How OpenLineage names a local file (the naming spec: namespace `file`, absolute path)."""
    from openlineage.client.naming.dataset import LocalFileSystem

    naming = LocalFileSystem(path=str(path.resolve()))
    return naming.get_namespace(), naming.get_name()


@pytest.mark.slow
def test_example_mesh_events_link_gold_runs_to_their_producers(
    tmp_path: Path, collector: Collector
) -> None:
    shutil.copy(ROOT / "mesh.yaml", tmp_path / "mesh.yaml")
    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    generate(tmp_path, rows=60)
    proc = _meshc(tmp_path, "mesh", "--engine", "polars", OPENLINEAGE_URL=collector.url)
    assert proc.returncode == 0, proc.stderr
    assert '"eventType"' not in proc.stdout  # no console transport on meshc's output
    assert set(collector.paths) == {"/api/v1/lineage"}
    jobs = _by_job(collector.events)
    assert len(jobs) == 15
    for name, events in jobs.items():
        assert [e["eventType"] for e in events] == ["START", "COMPLETE"], name
        assert events[0]["run"]["runId"] == events[1]["run"]["runId"], name
        assert events[1]["job"]["namespace"] == "meshc"
    produced = {
        dataset: name
        for name, (_, complete) in jobs.items()
        for dataset in _datasets(complete["outputs"])
    }
    for gold in ("gold.revenue_analytics", "gold.workforce_costs", "gold.sales_forecast"):
        complete = jobs[gold][1]
        assert complete["inputs"], gold
        for dataset in _datasets(complete["inputs"]):  # every input is a producer's output
            assert dataset in produced and produced[dataset] != gold, (gold, dataset)
    revenue_inputs = {produced[d] for d in _datasets(jobs["gold.revenue_analytics"][1]["inputs"])}
    assert {"crm.orders", "finance.invoices"} <= revenue_inputs
    orders_output = _file(tmp_path / "lakehouse/silver/crm/orders/data.parquet")
    assert produced[orders_output] == "crm.orders"


def _small_mesh(root: Path, url: str) -> None:
    """Two domains: crm.orders (a CSV source), gold.totals (a transform over it), plus a run that
    fails its threshold and one that stops on an error."""
    (root / "contracts/crm").mkdir(parents=True)
    (root / "contracts/gold").mkdir(parents=True)
    (root / "landing").mkdir()
    (root / "mesh.yaml").write_text(
        textwrap.dedent(f"""\
        mesh: {{name: small}}
        lakehouse: {{root: lake}}
        openlineage:
          namespace: small_mesh
          transport: {{type: http, url: "{url}"}}
        domains:
          crm: {{owner: crm@example.com, contracts: contracts/crm}}
          gold: {{owner: gold@example.com, contracts: contracts/gold}}
        """)
    )
    (root / "landing/orders.csv").write_text(
        "order_id,amount,status\nA1,10.5,open\nA2,-3,open\nA3,,closed\nA4,7,open\n"
    )
    (root / "landing/bad.csv").write_text("order_id,amount\nB1,1\nB2,-1\n")
    (root / "landing/broken.csv").write_text("order_id\nC1\n")
    contract = """\
        info: {{version: "1.0.0", name: {name}, domain: crm, owner: crm@example.com}}
        source: {{path: landing/{file}.csv}}
        output: {{target: silver/{name}}}
        model:
          fields:
            - {{name: order_id, type: string, required: true}}
            - {{name: amount, type: float}}
        quality:
          row_rules:
            - {{name: non_negative, sql: "amount >= 0"}}
          {extra}
        quarantine: {{enabled: true, target: quarantine/{name}}}
        lineage: {{enabled: true}}
        """
    for name, file, extra in (
        ("orders", "orders", "dataset_rules: [{type: row_count, min: 1}]"),
        ("bad", "bad", "max_quarantine_ratio: 0.1"),
        ("broken", "broken", ""),
    ):
        text = textwrap.dedent(contract.format(name=name, file=file, extra=extra))
        (root / f"contracts/crm/{name}.yaml").write_text(text)
    (root / "contracts/gold/totals.yaml").write_text(
        textwrap.dedent("""\
        info: {version: "1.0.0", name: totals, domain: gold, owner: gold@example.com}
        transform:
          inputs: [{ref: crm.orders, alias: o}]
          sql: "SELECT COUNT(*) AS orders, SUM(o.amount) AS amount FROM o"
        output: {target: gold/totals}
        model:
          fields:
            - {name: orders, type: integer, required: true}
            - {name: amount, type: float}
        lineage: {enabled: true}
        """)
    )


def test_small_mesh_events_states_facets_and_links(tmp_path: Path, collector: Collector) -> None:
    _small_mesh(tmp_path, collector.url)
    proc = _meshc(tmp_path, "mesh", "--engine", "polars")
    assert proc.returncode == 1, proc.stderr  # crm.bad fails its threshold, crm.broken errors
    jobs = _by_job(collector.events)
    assert {e["job"]["namespace"] for e in collector.events} == {"small_mesh"}
    states = {name: [e["eventType"] for e in events] for name, events in jobs.items()}
    assert states == {
        "crm.orders": ["START", "COMPLETE"],
        "crm.bad": ["START", "FAIL"],
        "crm.broken": ["START", "FAIL"],
        "gold.totals": ["START", "COMPLETE"],
    }
    # the threshold failure and the error say why
    bad_fail = jobs["crm.bad"][1]["run"]["facets"]["errorMessage"]
    assert "max_quarantine_ratio" in bad_fail["message"]
    broken_fail = jobs["crm.broken"][1]["run"]["facets"]["errorMessage"]
    assert "amount" in broken_fail["message"] and broken_fail["programmingLanguage"] == "python"
    # the producer's output is the gold run's input: the same (namespace, name)
    orders = jobs["crm.orders"][1]
    valid = _file(tmp_path / "lake/silver/orders/data.parquet")
    assert valid in _datasets(orders["outputs"])
    assert _datasets(jobs["gold.totals"][0]["inputs"]) == {valid}  # START already names it
    assert _datasets(jobs["gold.totals"][1]["inputs"]) == {valid}
    assert _datasets(orders["inputs"]) == {_file(tmp_path / "landing/orders.csv")}
    # facets: schema in and out, assertions per check, metrics
    (source,) = orders["inputs"]
    assert [f["name"] for f in source["facets"]["schema"]["fields"]] == ["order_id", "amount"]
    assertions = {
        a["assertion"]: a for a in source["inputFacets"]["dataQualityAssertions"]["assertions"]
    }
    assert assertions["non_negative"]["success"] is False
    assert assertions["order_id.required"] == {
        **assertions["order_id.required"],
        "success": True,
        "column": "order_id",
    }
    assert assertions["row_count"]["success"] is True
    assert source["inputFacets"]["dataQualityMetrics"]["rowCount"] == 4
    by_name = {o["name"]: o for o in orders["outputs"]}
    out = by_name[valid[1]]
    assert out["facets"]["dataQualityMetrics"]["rowCount"] == 3
    assert out["facets"]["dataQualityMetrics"]["columnMetrics"]["amount"]["nullCount"] == 1
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == 3
    assert "_meshc_run_id" in [f["name"] for f in out["facets"]["schema"]["fields"]]
    quarantine = by_name[_file(tmp_path / "lake/quarantine/orders/data.parquet")[1]]
    assert quarantine["facets"]["dataQualityMetrics"]["rowCount"] == 1
    gold_input = jobs["gold.totals"][1]["inputs"][0]
    assert [f["name"] for f in gold_input["facets"]["schema"]["fields"]] == ["order_id", "amount"]
    # the committed file holds the same final event (the client adds its own tags facet)
    record = json.loads((tmp_path / "lake/_meshc/runs/crm/orders/latest.json").read_text())
    stored = json.loads(
        (tmp_path / f"lake/_meshc/runs/crm/orders/{record['run_id']}.openlineage.json").read_text()
    )
    assert stored["run"]["runId"] == orders["run"]["runId"]
    assert {k: v for k, v in stored.items() if k != "run"} == {
        k: v for k, v in orders.items() if k != "run"
    }


def test_unreachable_backend_is_a_warning_not_a_failed_run(tmp_path: Path) -> None:
    contract = tmp_path / "c.yaml"
    contract.write_text(
        textwrap.dedent("""\
        info: {version: "1.0.0", name: c, domain: d}
        model: {fields: [{name: id, type: string}]}
        output: {target: out}
        quarantine: {enabled: false}
        lineage: {enabled: true}
        """)
    )
    (tmp_path / "in.csv").write_text("id\na\n")
    proc = _meshc(
        tmp_path,
        "run", "-c", "c.yaml", "--source", "in.csv", "--format", "json",
        # the transport from openlineage-python's own variables; nothing listens on port 9
        OPENLINEAGE__TRANSPORT__TYPE="http",
        OPENLINEAGE__TRANSPORT__URL="http://127.0.0.1:9",
        OPENLINEAGE__TRANSPORT__RETRY='{"total": 0}',
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    messages = [w["message"] for w in report["warnings"] if w["id"] == "openlineage"]
    assert len(messages) == 2 and "START" in messages[0] and "COMPLETE" in messages[1]
    assert (tmp_path / "lakehouse/out/data.parquet").is_file()  # the data is committed all the same


def test_without_configuration_only_the_file_is_written(tmp_path: Path) -> None:
    """No transport configured: no client (openlineage-python would print on stdout), the
    per-run file is the record of the event."""
    (tmp_path / "in.csv").write_text("id\na\n")
    contract = tmp_path / "c.yaml"
    contract.write_text(
        'info: {version: "1.0.0", name: c, domain: d}\nmodel: {fields: [{name: id, type: string}]}\n'
        "output: {target: out}\nlineage: {enabled: true}\n"
    )
    proc = _meshc(tmp_path, "run", "-c", "c.yaml", "--source", "in.csv", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # stdout is exactly the report
    event = json.loads((tmp_path / report["lineage"]["openlineage_event"]).read_text())
    assert event["eventType"] == "COMPLETE"
    assert _datasets(event["inputs"]) == {_file(tmp_path / "in.csv")}
    # no second pass over the output for per-column null counts when nobody listens
    (valid,) = [o for o in event["outputs"] if "outputStatistics" in o.get("outputFacets", {})][:1]
    assert (
        "columnMetrics" not in valid["facets"].get("dataQualityMetrics", {})
        or not valid["facets"]["dataQualityMetrics"]["columnMetrics"]
    )


def test_check_imports_no_openlineage(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom meshc.cli.app import main\n"
        "sys.argv = ['meshc', 'check', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('openlineage', 'polars', 'pyarrow', 'pandas')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "contracts")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stderr


class _Unavailable(http.server.ThreadingHTTPServer):
    """A backend that is down behind its proxy: every POST gets 503 (openlineage-python retries
    those); counts the requests."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Unavailable503)
        self.requests = 0


class _Unavailable503(http.server.BaseHTTPRequestHandler):
    server: _Unavailable

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests += 1
        self.send_response(503)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def unavailable() -> Iterator[_Unavailable]:
    server = _Unavailable()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _one_contract(root: Path) -> None:
    (root / "c.yaml").write_text(
        textwrap.dedent("""\
        info: {version: "1.0.0", name: c, domain: d}
        model: {fields: [{name: id, type: string}]}
        output: {target: out}
        quarantine: {enabled: false}
        lineage: {enabled: true}
        """)
    )
    (root / "in.csv").write_text("id\na\n")


def test_a_backend_that_is_down_is_tried_briefly_and_once_per_process(
    tmp_path: Path, unavailable: _Unavailable
) -> None:
    """openlineage-python's HTTP default is 5 retries with backoff per event (a dead backend held
    each run for over a minute): meshc retries once, and after a failure stops trying for the rest
    of the process; every event not sent is still a warning, and still in the event file."""
    _one_contract(tmp_path)
    url = f"http://127.0.0.1:{unavailable.server_address[1]}"
    proc = _meshc(
        tmp_path, "run", "-c", "c.yaml", "--source", "in.csv", "--format", "json",
        OPENLINEAGE_URL=url,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert unavailable.requests == 2  # START and one retry; COMPLETE not tried against it
    messages = [w["message"] for w in json.loads(proc.stdout)["warnings"]]
    assert "START" in messages[0] and "COMPLETE" in messages[1] and "not tried" in messages[1]


def test_events_not_sent_are_github_warnings(tmp_path: Path, unavailable: _Unavailable) -> None:
    """In CI the annotations are what people read: a lineage backend that is down says so there."""
    _one_contract(tmp_path)
    url = f"http://127.0.0.1:{unavailable.server_address[1]}"
    proc = _meshc(
        tmp_path, "run", "-c", "c.yaml", "--source", "in.csv", "--format", "github", "--quiet",
        OPENLINEAGE_URL=url,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stdout.splitlines() if line.startswith("::warning ")]
    assert len(warnings) == 2
    assert "::openlineage: could not send the START event" in warnings[0]


@pytest.mark.parametrize("key", ["landing/orders?2024.csv", "landing/a#b.csv", "x/y/*.csv"])
def test_an_object_key_is_named_whole(key: str) -> None:
    """`?` and `#` are characters of an object key (and of a glob), not a URL's query or
    fragment: the dataset name is the whole key, as the source was read."""
    from meshc.lineage.naming import dataset

    assert dataset(f"s3://bucket/{key}") == {"namespace": "s3://bucket", "name": key}
