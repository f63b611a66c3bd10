"""`meshc docs`: a static site about the mesh's data products, readable from disk.

    collect.collect_mesh(mesh.yaml, root) -> MeshDoc   contracts, rules, history, runs, lineage
    render.write_site(MeshDoc, out)                     index.html + products/<ref>.html

Runs come from the run records under `<root>/_meshc/runs/` (runs.py), version history from git
(history.py), charts and the lineage graph are inline SVG (charts.py, lineage_graph.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def build_site(
    mesh_path: str | Path,
    out: str | Path,
    root: str | Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[Path]:
    """Collect the mesh at `mesh_path` and write its site under `out`; the pages written.
    `warn` hears of each run record that could not be read (the page lists them too)."""
    from meshc.docs_site.collect import collect_mesh
    from meshc.docs_site.render import write_site

    mesh = collect_mesh(Path(mesh_path), Path(root) if root is not None else None)
    unreadable = [
        (p.runs.folder / n, why) for p in mesh.products.values() for n, why in p.runs.unreadable
    ]
    if warn is not None:
        for path, why in unreadable:
            warn(f"{path}: unreadable run record, not charted: {why}")
    return write_site(mesh, Path(out))
