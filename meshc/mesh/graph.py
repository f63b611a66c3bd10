"""The contract graph: foreign keys and gold inputs make edges; runs follow a topological order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from meshc.contract import Contract
from meshc.errors import MeshcError


@dataclass(frozen=True)
class ContractGraph:
    contracts: dict[str, Contract]  # ref -> contract
    parents: dict[str, tuple[str, ...]]  # ref -> refs it depends on

    def order(self) -> list[str]:
        """Parents before children, ties broken by name so the order is deterministic."""
        indegree = {ref: len(ps) for ref, ps in self.parents.items()}
        children: dict[str, list[str]] = {ref: [] for ref in self.contracts}
        for ref, ps in self.parents.items():
            for p in ps:
                children[p].append(ref)
        ready = sorted(r for r, d in indegree.items() if d == 0)
        out: list[str] = []
        while ready:
            ref = ready.pop(0)
            out.append(ref)
            for child in children[ref]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
                    ready.sort()
        if len(out) != len(self.contracts):
            cycle = sorted(set(self.contracts) - set(out))
            raise MeshcError(f"contracts depend on each other in a cycle: {', '.join(cycle)}")
        return out

    def mermaid(self) -> str:
        lines = ["graph LR"]
        by_domain: dict[str, list[str]] = {}
        for ref, c in sorted(self.contracts.items()):
            by_domain.setdefault(c.info.domain, []).append(ref)
        for domain, refs in sorted(by_domain.items()):
            lines.append(f"  subgraph {domain}")
            lines.extend(f'    {_node(r)}["{r}"]' for r in refs)
            lines.append("  end")
        for ref, ps in sorted(self.parents.items()):
            lines.extend(f"  {_node(p)} --> {_node(ref)}" for p in ps)
        return "\n".join(lines)


def _node(ref: str) -> str:
    return ref.replace(".", "__")


def build_graph(contracts: Iterable[Contract]) -> ContractGraph:
    by_ref = {c.ref: c for c in contracts}
    parents: dict[str, tuple[str, ...]] = {}
    for ref, c in by_ref.items():
        deps = {".".join(f.references.split(".")[:2]) for f in c.fields if f.references}
        if c.transform is not None:
            deps |= {i.ref for i in c.transform.inputs}
        deps.discard(ref)
        missing = sorted(d for d in deps if d not in by_ref)
        if missing:
            raise MeshcError(f"{c.path}: depends on unknown contract(s) {', '.join(missing)}")
        parents[ref] = tuple(sorted(deps))
    return ContractGraph(by_ref, parents)
