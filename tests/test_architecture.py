"""The engine boundary: nothing outside meshc/engines/ reaches into an engine's private package.

Each engine lives in `meshc/engines/_<name>/`; the rest of meshc uses only the public modules of
`meshc/engines/` (base, registry, sql, native, select, profiling, textcast...). The walk covers
absolute and relative imports and `importlib.import_module("...")` / `__import__("...")` with a
literal name. Modules inside meshc/engines/ are exempt: the registry names the private engine
modules as strings (that is how engines load lazily), and the public modules wrap them.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "meshc"


def _package_of(path: Path, root: Path) -> list[str]:
    """The dotted package of a file, e.g. meshc/emit/sql_emit.py -> ['meshc', 'emit']."""
    return list(path.relative_to(root.parent).with_suffix("").parts[:-1])


def _from_targets(path: Path, root: Path, node: ast.ImportFrom) -> list[str]:
    """Every module an ImportFrom may load: the module, and module.name for each name."""
    if node.level:
        package = _package_of(path, root)
        base = package[: len(package) - node.level + 1]
        module = ".".join([*base, *([node.module] if node.module else [])])
    else:
        module = node.module or ""
    return [module, *(f"{module}.{alias.name}" for alias in node.names)]


def _dynamic_target(node: ast.Call) -> str | None:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name not in {"import_module", "__import__"} or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def _imports(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield from ((node.lineno, name) for name in _from_targets(path, root, node))
        elif isinstance(node, ast.Call) and (target := _dynamic_target(node)):
            yield node.lineno, target


def _is_private_engine(module: str) -> bool:
    parts = module.split(".")
    return parts[:2] == ["meshc", "engines"] and len(parts) > 2 and parts[2].startswith("_")


def boundary_violations(root: Path = PACKAGE) -> list[str]:
    """`file:line: module` for every import of meshc.engines._<x> from outside meshc/engines/."""
    engines = root / "engines"
    found: dict[tuple[str, int], str] = {}
    for path in sorted(root.rglob("*.py")):
        if path.is_relative_to(engines):
            continue
        for line, module in _imports(path, root):
            if _is_private_engine(module):
                found.setdefault((str(path.relative_to(root.parent)), line), module)
    return [f"{file}:{line}: {module}" for (file, line), module in sorted(found.items())]


def test_no_private_engine_imports_outside_engines() -> None:
    violations = boundary_violations()
    assert not violations, (
        "these modules import an engine's private package; use a public module of "
        "meshc/engines/ instead (see docs/architecture.md):\n" + "\n".join(violations)
    )


# Public modules of meshc/engines/ that may import an engine's private package, and why. Anything
# else public (base, sql*, textcast, spec...) is the shared layer the engines build on: it must not
# depend on one engine (that would be layering backwards, as sql_generator once did on _duckdb).
PUBLIC_ENGINE_FACADES = {
    # loads every engine by its module name: how engines are found (lazily)
    "meshc/engines/registry.py",
    # re-exports the Polars engine's reader and casts for `meshc init` (one engine by design)
    "meshc/engines/profiling.py",
    # runs a gold transform on an engine's own connection/session (DuckDB's connect, Spark's
    # shared session), imported lazily inside each runner
    "meshc/engines/select.py",
}


def layering_violations(root: Path = PACKAGE) -> list[str]:
    """`file:line: module` for every import of meshc.engines._<x> by a public module of
    meshc/engines/ (a file directly in it) that is not a declared facade."""
    found: dict[tuple[str, int], str] = {}
    for path in sorted((root / "engines").glob("*.py")):
        name = str(path.relative_to(root.parent))
        if name in PUBLIC_ENGINE_FACADES:
            continue
        for line, module in _imports(path, root):
            if _is_private_engine(module):
                found.setdefault((name, line), module)
    return [f"{file}:{line}: {module}" for (file, line), module in sorted(found.items())]


def test_public_engine_modules_do_not_import_private_engines() -> None:
    """The shared layer (the SQL generator, its dialects and trees, the cast spec...) sits below
    the engines: `_duckdb` imports `sql_trees`, never the reverse."""
    violations = layering_violations()
    assert not violations, (
        "these public modules of meshc/engines/ import an engine's private package; move what "
        "they need into a public module (or declare a facade in PUBLIC_ENGINE_FACADES):\n"
        + "\n".join(violations)
    )


def test_the_layering_walk_sees_a_public_module_importing_an_engine(tmp_path: Path) -> None:
    pkg = tmp_path / "meshc"
    (pkg / "engines" / "_duckdb").mkdir(parents=True)
    (pkg / "engines" / "sql_generator.py").write_text(
        "from meshc.engines._duckdb import sqlbuild\nfrom meshc.engines import sql_trees\n"
    )
    (pkg / "engines" / "registry.py").write_text("import meshc.engines._duckdb.engine\n")
    (pkg / "engines" / "_duckdb" / "cast.py").write_text("from meshc.engines import sql_trees\n")
    assert layering_violations(pkg) == ["meshc/engines/sql_generator.py:1: meshc.engines._duckdb"]


def test_the_walk_sees_every_import_form(tmp_path: Path) -> None:
    """The checker itself: absolute, from-package, relative and import_module forms are caught;
    public engine modules and the engines' own packages are not."""
    pkg = tmp_path / "meshc"
    (pkg / "engines" / "_duckdb").mkdir(parents=True)
    (pkg / "emit").mkdir()
    (pkg / "emit" / "a.py").write_text(
        "import meshc.engines._duckdb.translate\n"
        "from meshc.engines import _polars\n"
        "from ..engines._spark import session\n"
        "from importlib import import_module\n"
        "import_module('meshc.engines._pandas.engine')\n"
        "from meshc.engines import sql, registry\n"
        "from meshc.engines.textcast import BOOLEAN_TRUE\n"
    )
    (pkg / "engines" / "registry.py").write_text("import meshc.engines._duckdb.engine\n")
    found = boundary_violations(pkg)
    assert [v.split(": ")[0] for v in found] == [
        "meshc/emit/a.py:1",
        "meshc/emit/a.py:2",
        "meshc/emit/a.py:3",
        "meshc/emit/a.py:5",
    ]


def _engine_name_dispatch(root: Path, names: set[str]) -> list[str]:
    """`file:line` of every comparison of an `engine...` variable with an engine's name."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.is_relative_to(root / "engines"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            named = any("engine" in ast.unparse(side).lower() for side in sides)
            literals = {
                c.value
                for side in sides
                for c in ast.walk(side)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
            if named and literals & names:
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return found


def test_engine_names_are_not_dispatched_outside_the_registry() -> None:
    """`engine == "polars"` outside meshc/engines/ re-declares what the registry knows: use the
    registry (a capability on its entries) or the frame's own type instead."""
    from meshc.engines.registry import ENGINES

    violations = _engine_name_dispatch(PACKAGE, set(ENGINES))
    assert not violations, "engine names compared as strings:\n" + "\n".join(violations)


def test_cli_engine_choices_are_the_registry() -> None:
    """`meshc run --engine` offers exactly the registry's engines (one list, not two): an unknown
    name is refused with the registry's names as the choices."""
    from typer.testing import CliRunner

    from meshc.cli.app import app
    from meshc.engines.registry import DEFAULT_ENGINE, ENGINES

    result = CliRunner().invoke(app, ["run", "-c", "x.yaml", "--engine", "no-such-engine"])
    assert result.exit_code == 2
    offered = re.search(r"'no-such-engine' is not one of (.*)\.", _plain(result.output))
    assert offered is not None, result.output
    assert re.findall(r"'([^']+)'", offered.group(1)) == list(ENGINES)
    assert DEFAULT_ENGINE in ENGINES


def _plain(text: str) -> str:
    """CLI output without colour codes, box drawing and line wrapping."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())
