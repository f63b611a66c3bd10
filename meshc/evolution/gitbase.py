"""`meshc check --base REF`: compare every contract with its version at a git ref.

Codes:
  MC501  the base ref is not in the repository (usually a shallow CI checkout)
  MC502  a breaking change without a major version bump (error, at the change's line)
  MC503  cannot compare: git is missing, not a repository, or a file outside the repository
  MC504  the version at the base ref is not a valid contract, so it is not compared (warning)
  MC505  a contract that exists at the base ref was deleted (warning: there is no version to bump)

A contract whose path is new is matched, by `domain.name`, with a contract deleted from the same
directories, so moving a file is compared like an edit. Git runs through subprocess with fixed
argument lists; nothing here changes the repository.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from meshc.contract import Contract
from meshc.diagnostics import Diagnostic, Severity
from meshc.discovery import NOT_CONTRACTS
from meshc.evolution.changes import Change, ContractDiff
from meshc.evolution.diff import diff_contracts

FETCH_HINT = (
    "fetch more history: `git fetch --deepen=1` (or `git fetch origin BRANCH`); in "
    "GitHub Actions use actions/checkout with `fetch-depth: 0`"
)


class _GitProblem(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@dataclass
class BaseComparison:
    """Every contract compared with its version at `ref`, plus the problems found on the way."""

    ref: str
    diffs: list[ContractDiff] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def check_against_base(files: Sequence[Path], base_ref: str) -> list[Diagnostic]:
    """Diagnostics for `meshc check --base`: MC502 for each breaking change that comes without a
    major version bump, plus MC501/MC503-MC505 problems."""
    comparison = compare_with_base(files, base_ref)
    out = list(comparison.diagnostics)
    for d in comparison.diffs:
        out.extend(version_policy(d, base_ref))
    return out


def version_policy(d: ContractDiff, base_ref: str) -> list[Diagnostic]:
    """MC502 per breaking change when the major version did not go up; MC505 for a deletion."""
    if d.new is None:
        assert d.old is not None
        return [
            Diagnostic(
                "MC505",
                f"contract '{d.ref}' was deleted; it breaks every consumer",
                d.old_label or d.old.path,
                severity=Severity.WARNING,
                hint="keep it, deprecated, until its consumers have moved",
            )
        ]
    if d.old is None or d.major_bumped:
        return []
    return [_breaking_diagnostic(d, c, base_ref) for c in d.breaking]


def _breaking_diagnostic(d: ContractDiff, change: Change, base_ref: str) -> Diagnostic:
    assert d.old is not None and d.new is not None
    message = (
        f"breaking change to contract '{d.ref}' without a major version bump "
        f"({d.old.info.version} -> {d.new.info.version}): {change.describe()}; "
        f"breaks the {' and '.join(change.broken_sides)}"
    )
    if change.in_old:
        _, line, _ = d.location(change)
        message += f" (was line {line} at {base_ref})"
    hint = f"set info.version to {_next_major(d.old.info.version)}, or revert the change"
    if d.new.locator is None:
        return Diagnostic("MC502", message, d.new.path, hint=hint)
    return d.new.locator.diagnostic(
        "MC502", message, change.anchor(), hint=hint, at_key=change.in_old
    )


def _next_major(version: str) -> str:
    parts = version.split(".")
    return ".".join([str(int(parts[0]) + 1)] + ["0"] * (len(parts) - 1))


def compare_with_base(files: Sequence[Path], base_ref: str) -> BaseComparison:
    """Compare each file with `git show REF:path`; include contracts deleted since REF."""
    result = BaseComparison(base_ref)
    if not files:
        return result
    try:
        root = _repo_root(Path(files[0]))
        _verify_ref(root, base_ref)
    except _GitProblem as exc:
        result.diagnostics.append(exc.diagnostic)
        return result
    moved_candidates: dict[str, Contract] = {}  # ref -> contract with no file at the base ref
    seen: set[str] = set()
    for path in files:
        rel = _relative(Path(path), root)
        if rel is None:
            result.diagnostics.append(
                Diagnostic("MC503", f"not in the git repository at {root}; not compared", str(path))
            )
            continue
        seen.add(rel)
        new = _load_current(Path(path))
        if new is None:
            continue  # `meshc check` reports why
        old = _load_at_ref(root, base_ref, rel, result)
        if old is None:
            moved_candidates[new.ref] = new
            continue
        result.diffs.append(diff_contracts(old, new, old_label=f"{base_ref}:{rel}"))
    for rel, old in _deleted(root, base_ref, seen):
        new = moved_candidates.pop(old.ref, None)
        result.diffs.append(diff_contracts(old, new, old_label=f"{base_ref}:{rel}"))
    result.diffs.extend(diff_contracts(None, new) for new in moved_candidates.values())
    return result


def run_git(root: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    """`git -C root ARGS` (fixed argument list, never changes the repository); None when git
    cannot be started."""
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except OSError:
        return None


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = run_git(root, *args)
    if proc is None:
        raise _GitProblem(
            Diagnostic("MC503", "git is not installed; cannot compare with a base ref", str(root))
        )
    return proc


def _repo_root(first: Path) -> Path:
    start = first.resolve().parent if not first.is_dir() else first.resolve()
    proc = _git(start, "rev-parse", "--show-toplevel")
    if proc.returncode != 0:
        raise _GitProblem(
            Diagnostic(
                "MC503",
                "not inside a git repository; --base needs one",
                str(first),
                hint="run meshc from a git checkout",
            )
        )
    return Path(proc.stdout.strip())


def _verify_ref(root: Path, ref: str) -> None:
    proc = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if proc.returncode == 0:
        return
    shallow = _git(root, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    why = " in this shallow clone" if shallow else " in this repository"
    raise _GitProblem(Diagnostic("MC501", f"base ref '{ref}' not found{why}", ref, hint=FETCH_HINT))


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def _load_current(path: Path) -> Contract | None:
    from meshc.loader import collect_contract

    contract, _ = collect_contract(path, compile_rules=False)
    return contract


def _load_at_ref(root: Path, ref: str, rel: str, result: BaseComparison) -> Contract | None:
    """The contract at `ref:rel`; None when the file did not exist or was not a valid contract."""
    from meshc.errors import ContractError
    from meshc.loader import loads_contract

    proc = _git(root, "show", f"{ref}:{rel}")
    if proc.returncode != 0:
        return None
    try:
        return loads_contract(proc.stdout, path=f"{ref}:{rel}")
    except ContractError as exc:
        first = exc.diagnostics[0].render() if exc.diagnostics else "invalid"
        result.diagnostics.append(
            Diagnostic(
                "MC504",
                f"the version at {ref} is not a valid contract, so it is not compared: {first}",
                str(root / rel),
                severity=Severity.WARNING,
            )
        )
        return None


def _deleted(root: Path, ref: str, seen: set[str]) -> list[tuple[str, Contract]]:
    """Contracts at `ref`, under the directories of the checked files, that no longer exist."""
    dirs = sorted({str(PurePosixPath(rel).parent) for rel in seen})
    dirs = [d for d in dirs if not any(_is_under(d, other) for other in dirs if other != d)]
    proc = _git(root, "ls-tree", "-r", "--name-only", ref, "--", *dirs)
    out = []
    for rel in proc.stdout.splitlines() if proc.returncode == 0 else []:
        if rel in seen or (root / rel).exists() or not _looks_like_contract(PurePosixPath(rel)):
            continue
        scratch = BaseComparison(ref)  # a YAML file that is not a contract is not a deletion
        old = _load_at_ref(root, ref, rel, scratch)
        if old is not None:
            out.append((rel, old))
    return out


def _is_under(path: str, parent: str) -> bool:
    return parent == "." or path.startswith(parent.rstrip("/") + "/")


def _looks_like_contract(p: PurePosixPath) -> bool:
    # the same candidates `meshc check DIR` picks (meshc.discovery)
    return (
        p.suffix in (".yaml", ".yml")
        and p.name not in NOT_CONTRACTS
        and not p.name.startswith(".")
        and "registry" not in p.stem
    )
