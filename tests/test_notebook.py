"""The walkthrough notebook runs top to bottom (its cells assert what they show)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_walkthrough_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    notebook = nbformat.read(ROOT / "examples" / "mesh_walkthrough.ipynb", as_version=4)
    monkeypatch.setenv("MESHC_REPO", str(ROOT))  # the kernel inherits the environment
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = "".join(str(o.get("text", "")) for c in notebook.cells for o in c.get("outputs", []))
    assert "all quarantines match the planted defects" in outputs
    assert "MC201" in outputs and "MC304" in outputs
