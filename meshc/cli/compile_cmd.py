"""`meshc compile`: write Pandera schemas, GX suites, validation SQL and a manifest per contract."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import typer

from meshc.emit.model import Gap


@dataclass
class CompileResult:
    """What `compile_paths` did: files stale (with `check`) or written, and per target how many
    rules it expresses and which it cannot (with the contract they come from)."""

    stale: list[str] = field(default_factory=list)
    written: int = 0
    contracts: int = 0
    rules: Counter[str] = field(default_factory=Counter)  # target -> rules of its contracts
    gaps: list[tuple[str, Gap]] = field(default_factory=list)

    def summary(self) -> list[str]:
        """One line per target: rules expressed, rules not expressible."""
        missing = Counter(g.target for _, g in self.gaps)
        width = max((len(t) for t in self.rules), default=6)
        lines = [f"  {'target':<{width}}  expressed  not expressible"]
        for target, total in self.rules.items():
            lines.append(
                f"  {target:<{width}}  {total - missing[target]:>9}  {missing[target]:>15}"
            )
        return lines

    def explained(self) -> list[str]:
        return [
            f"{path}: {g.target} cannot express {g.rule_id}: {g.reason}" for path, g in self.gaps
        ]


def register(app: typer.Typer) -> None:
    @app.command("compile")
    def compile_(
        paths: list[str] = typer.Argument(
            None, help="Contract files, directories or globs \\[default: contracts/]."
        ),
        out: Path = typer.Option(
            Path("compiled"),
            "--out",
            "-o",
            help="Output folder; each contract goes to <out>/<domain>/<name>/.",
        ),
        check: bool = typer.Option(
            False,
            "--check",
            help="Write nothing; exit 1 when the files on disk are missing or stale.",
        ),
        quiet: bool = typer.Option(
            False, "--quiet", "-q", help="Print nothing but errors and stale files."
        ),
        verbose: bool = typer.Option(
            False,
            "--verbose",
            "--explain",
            "-v",
            help="Also list every rule a target cannot express, with the reason.",
        ),
    ) -> None:
        """Compile contracts to artifacts other tools run (docs/compile.md).

        Prints per target how many rules it expresses and how many it cannot (--verbose lists
        them; the manifest and each artifact's header hold them too). Exit 0 ok (or up to date
        with --check); 1 stale artifacts with --check; 2 invalid contracts or usage errors."""
        from meshc.cli.output import render_diagnostics_text
        from meshc.errors import ContractError

        try:
            result = compile_paths(paths or ["contracts"], out, check=check)
        except ContractError as exc:
            render_diagnostics_text(exc.diagnostics, 1)
            raise typer.Exit(2) from None
        if check:
            for path in result.stale:
                typer.echo(f"stale: {path}")
        if not quiet:
            _report(result, out, check=check, verbose=verbose)
        if check and result.stale:
            raise typer.Exit(1)


def _report(result: CompileResult, out: Path, *, check: bool, verbose: bool) -> None:
    """The summary on stderr (stdout stays for `stale:` lines)."""
    if check:
        typer.echo(
            f"{len(result.stale)} artifact(s) out of date; run `meshc compile --out {out}`"
            if result.stale
            else "compiled artifacts are up to date",
            err=True,
        )
        return
    typer.echo(
        f"compiled {result.contracts} contract(s): wrote {result.written} file(s) under {out}",
        err=True,
    )
    for line in result.summary():
        typer.echo(line, err=True)
    if verbose:
        for line in result.explained():
            typer.echo(f"  {line}", err=True)
    elif result.gaps:
        rules = len({(path, g.rule_id) for path, g in result.gaps})
        typer.echo(
            f"{rules} rule(s) not expressible by some target (`meshc run` checks them): "
            "--verbose lists them, so does each manifest.json",
            err=True,
        )


def compile_paths(paths: list[str], out: Path, *, check: bool = False) -> CompileResult:
    """Compile every contract under `paths` into `out` (with `check`, compare instead of
    writing). Raises ContractError."""
    from meshc.discovery import find_contracts
    from meshc.emit import emit_contract
    from meshc.errors import ContractError
    from meshc.loader import load_contract
    from meshc.rules.compiler import compile_contract

    files, problems = find_contracts(paths)
    if problems:
        raise ContractError(problems)
    result = CompileResult()
    for path in files:
        compiled = compile_contract(load_contract(path))
        artifacts = emit_contract(compiled, Path(path).read_bytes())
        result.contracts += 1
        rules = len(compiled.row_checks) + len(compiled.dataset_checks)
        for target in artifacts.targets:
            result.rules[target] += rules
        result.gaps += [(str(path), g) for g in artifacts.gaps]
        folder = out / artifacts.folder
        for artifact in artifacts.files:
            target_path = folder / artifact.name
            current = target_path.read_bytes() if target_path.is_file() else None
            if current == artifact.text.encode("utf-8"):
                continue
            if check:
                result.stale.append(target_path.as_posix())
                continue
            target_path.parent.mkdir(parents=True, exist_ok=True)
            target_path.write_bytes(artifact.text.encode("utf-8"))
            result.written += 1
    return result
