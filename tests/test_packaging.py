"""The wheel ships the JSON Schemas and the console script."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_wheel_contains_schemas_and_entry_point(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("meshc-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for schema in ("contract", "mesh", "run-report", "registry"):
        assert f"meshc/schemas/{schema}.schema.json" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "meshc = meshc.cli.app:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_base_install_is_check_only_and_every_engine_names_an_extra() -> None:
    """`pip install meshc` is the pre-commit hook's environment (no dataframe engine); the extra
    the engine registry names in its install hint exists, and the setup script installs one."""
    from meshc.engines.registry import ENGINES

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"])
    for heavy in ("polars", "pyarrow", "pandas", "duckdb", "pyspark", "openlineage"):
        assert heavy not in base, heavy
    extras = project["optional-dependencies"]
    for name, entry in ENGINES.items():
        assert entry.extra in extras, name
        assert any(entry.library in req for req in extras[entry.extra]), name
    assert 'extras="${1:-polars}"' in (ROOT / "scripts/setup.sh").read_text()
