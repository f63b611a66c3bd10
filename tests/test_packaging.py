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
