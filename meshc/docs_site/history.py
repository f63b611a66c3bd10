"""A contract's version history from git: each commit that touched the file, what changed and
whom it breaks (meshc.evolution's diff). Outside a git repository there is only the current
version, and the page says so.

Git runs through subprocess with fixed argument lists and never changes the repository.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from meshc.contract import Contract
from meshc.evolution.changes import Change

MAX_COMMITS = 50  # the newest commits of one file; older ones are counted, not shown
_SEP, _END = "\x1f", "\x1e"


@dataclass(frozen=True)
class Version:
    """One version of the contract: a commit (or the uncommitted working copy)."""

    label: str  # short commit id, or "working copy"
    date: str
    subject: str
    version: str | None  # info.version; None when the file was not a valid contract there
    changes: tuple[Change, ...] = ()  # from the previous version shown
    problem: str | None = None
    major_bumped: bool = False  # the major version went up since the previous version

    @property
    def unannounced_break(self) -> bool:
        """Breaking changes without a major bump (what `meshc check --base` refuses, MC502)."""
        return bool(self.breaking) and not self.major_bumped

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.breaking)


@dataclass
class History:
    versions: list[Version] = field(default_factory=list)  # newest first
    note: str | None = None  # why there is no history (not in git...), or what was cut


def contract_history(contract: Contract) -> History:
    """The versions of `contract.path` in git, newest first, each diffed with the valid version
    before it."""
    path = Path(contract.path)
    current = Version("current file", "", "", contract.info.version)
    if shutil.which("git") is None:
        return History([current], "git is not installed: only the current version is shown")
    top = _git(path.resolve().parent, "rev-parse", "--show-toplevel")
    if top is None:
        return History([current], "not in a git repository: only the current version is shown")
    root = Path(top.strip()).resolve()
    try:
        rel = path.resolve().relative_to(root).as_posix()
    except ValueError:
        return History([current], f"outside the git repository at {root}: only the current version")
    commits = _commits(root, rel)
    if not commits:
        return History([current], "not committed to git yet: only the current version is shown")
    versions, previous = [], None
    for sha, date, subject, at_path in reversed(commits[:MAX_COMMITS]):
        loaded, problem = _load_at(root, sha, at_path)
        versions.append(_version(sha[:10], date, subject, previous, loaded, problem))
        previous = loaded or previous
    if path.read_text(encoding="utf-8", errors="replace") != _git(root, "show", f"HEAD:{rel}"):
        versions.append(_version("working copy", "", "uncommitted", previous, contract, None))
    note = None
    if len(commits) > MAX_COMMITS:
        note = f"the newest {MAX_COMMITS} of {len(commits)} commits are shown"
    return History(versions[::-1], note)


def _commits(root: Path, rel: str) -> list[tuple[str, str, str, str]]:
    """(sha, ISO date, subject, path at that commit), newest first; renames followed."""
    out = _git(
        root, "log", "--follow", "--name-only", f"--format={_END}%H{_SEP}%aI{_SEP}%s", "--", rel
    )
    commits = []
    for chunk in (out or "").split(_END)[1:]:
        head, _, names = chunk.partition("\n")
        sha, date, subject = head.split(_SEP, 2)
        paths = [n for n in names.splitlines() if n.strip()]
        commits.append((sha, date, subject, paths[0] if paths else rel))
    return commits


def _load_at(root: Path, sha: str, at_path: str) -> tuple[Contract | None, str | None]:
    """The contract as committed, or why there is none."""
    from meshc.errors import ContractError
    from meshc.loader import loads_contract

    text = _git(root, "show", f"{sha}:{at_path}")
    if text is None:
        return None, "the file could not be read from git"
    try:
        return loads_contract(text, path=f"{sha[:10]}:{at_path}"), None
    except ContractError as exc:
        first = exc.diagnostics[0].message if exc.diagnostics else "invalid"
        return None, f"not a valid contract here: {first}"


def _version(
    label: str,
    date: str,
    subject: str,
    old: Contract | None,
    new: Contract | None,
    problem: str | None,
) -> Version:
    """`new` as one entry of the history, with what changed since `old` (meshc.evolution)."""
    from meshc.evolution.diff import diff_contracts

    if new is None:
        return Version(label, date, subject, None, problem=problem)
    d = diff_contracts(old, new) if old is not None else None
    return Version(
        label,
        date,
        subject,
        new.info.version,
        d.changes if d else (),
        problem,
        major_bumped=bool(d and d.major_bumped),
    )


def _git(root: Path, *args: str) -> str | None:
    """stdout of `git -C root ARGS`, or None when git is missing or the command failed."""
    from meshc.evolution.gitbase import run_git

    proc = run_git(root, *args)
    return proc.stdout if proc is not None and proc.returncode == 0 else None
