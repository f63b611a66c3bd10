"""The lineage graph as inline SVG: source systems on the left, then the contracts they land in,
then the gold contracts built from them (transform inputs), left to right. Each contract links to
its page; colours are domains."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from meshc.docs_site.collect import MeshDoc, ProductDoc
from meshc.docs_site.svg import GREY, PALETTE, sub, svg_root, text, to_string

NODE_W, NODE_H, COL_GAP, ROW_GAP, MARGIN, TOP = 200, 38, 260, 50, 16, 44
MAX_LABEL = 30


@dataclass(frozen=True)
class _Node:
    key: str  # a contract ref, or "system:<name>"
    label: str
    detail: str
    column: int
    domain: str | None  # None for a source system


def lineage_svg(
    mesh: MeshDoc,
    refs: Iterable[str],
    link: Callable[[str], str],
    *,
    focus: str | None = None,
    title: str = "Lineage",
) -> str:
    """The graph of `refs` (and the source systems they read); `link(ref)` is a page's href."""
    products = {r: mesh.products[r] for r in sorted(set(refs))}
    nodes = _nodes(products, mesh)
    edges = _edges(products)
    columns: dict[int, list[_Node]] = {}
    for node in sorted(nodes.values(), key=lambda n: (n.column, n.domain or "", n.key)):
        columns.setdefault(node.column, []).append(node)
    tallest = max((len(c) for c in columns.values()), default=1)
    _order_systems(columns, edges, tallest)
    width = 2 * MARGIN + NODE_W + COL_GAP * max(len(columns) - 1, 0) + 40
    height = TOP + tallest * ROW_GAP + 40
    root = svg_root(width, height, title, "chart lineage-graph")
    text(root, width / 2, 22, title, "middle", font_weight="bold", font_size=14)
    arrow = f"arrow-{(focus or 'mesh').replace('.', '-')}"  # ids are per page: one graph each
    _arrow_marker(root, arrow)
    place = _places(columns, tallest)
    for source, target in edges:
        if source in place and target in place:
            _edge(root, place[source], place[target], arrow)
    colours = _domain_colours(mesh)
    for node in nodes.values():
        _node(root, node, place[node.key], colours, link, node.key == focus)
    _legend(root, colours, {n.domain for n in nodes.values() if n.domain}, height)
    return to_string(root)


def related(mesh: MeshDoc, ref: str) -> set[str]:
    """A product with everything upstream (its inputs, theirs...) and downstream (who reads it)."""
    out = {ref}
    for step in (lambda p: p.inputs, lambda p: p.used_by):
        todo = [ref]
        while todo:
            for nxt in step(mesh.products[todo.pop()]):
                if nxt not in out:
                    out.add(nxt)
                    todo.append(nxt)
    return out


def _nodes(products: dict[str, ProductDoc], mesh: MeshDoc) -> dict[str, _Node]:
    nodes: dict[str, _Node] = {}
    for ref, p in products.items():
        info = p.contract.info
        detail = f"{info.domain} · {info.layer or '-'} · v{info.version}"
        nodes[ref] = _Node(ref, ref, detail, _depth(mesh, ref), info.domain)
        if not p.inputs and info.system:
            key = f"system:{info.system}"
            nodes[key] = _Node(key, info.system, "source system", 0, None)
    return nodes


def _depth(mesh: MeshDoc, ref: str) -> int:
    """1 for a contract read from a source, 1 + its deepest input for a gold contract."""
    inputs = mesh.products[ref].inputs
    return 1 + max((_depth(mesh, i) for i in inputs), default=0)


def _edges(products: dict[str, ProductDoc]) -> list[tuple[str, str]]:
    edges = []
    for ref, p in products.items():
        if not p.inputs and p.contract.info.system:
            edges.append((f"system:{p.contract.info.system}", ref))
        edges.extend((i, ref) for i in p.inputs)
    return edges


def _order_systems(
    columns: dict[int, list[_Node]], edges: list[tuple[str, str]], tallest: int
) -> None:
    """Put each source system level with the middle of the contracts it feeds (fewer crossings)."""
    place = _places({k: v for k, v in columns.items() if k != 0}, tallest)
    fed: dict[str, list[float]] = {}
    for source, target in edges:
        if source.startswith("system:") and target in place:
            fed.setdefault(source, []).append(place[target][1])
    middle = {key: sum(ys) / len(ys) for key, ys in fed.items()}
    columns.get(0, []).sort(key=lambda n: (middle.get(n.key, 0.0), n.key))


def _places(columns: dict[int, list[_Node]], tallest: int) -> dict[str, tuple[float, float]]:
    """Top-left corner of each node; columns are centred vertically on the tallest."""
    place: dict[str, tuple[float, float]] = {}
    for i, column in enumerate(sorted(columns)):
        offset = (tallest - len(columns[column])) * ROW_GAP / 2
        for row, node in enumerate(columns[column]):
            place[node.key] = (MARGIN + i * COL_GAP, TOP + offset + row * ROW_GAP)
    return place


def _arrow_marker(root: ET.Element, marker_id: str) -> None:
    defs = sub(root, "defs")
    marker = sub(
        defs,
        "marker",
        id=marker_id,
        viewBox="0 0 10 10",
        refX=10,
        refY=5,
        markerWidth=7,
        markerHeight=7,
        orient="auto",
    )
    sub(marker, "path", d="M0,0 L10,5 L0,10 z", fill="#555")


def _edge(root: ET.Element, src: tuple[float, float], dst: tuple[float, float], arrow: str) -> None:
    x1, y1 = src[0] + NODE_W, src[1] + NODE_H / 2
    x2, y2 = dst[0], dst[1] + NODE_H / 2
    mid = (x1 + x2) / 2
    sub(
        root,
        "path",
        d=f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}",
        fill="none",
        stroke="#777",
        stroke_width=1.5,
        marker_end=f"url(#{arrow})",
    )


def _node(
    root: ET.Element,
    node: _Node,
    at: tuple[float, float],
    colours: dict[str, str],
    link: Callable[[str], str],
    focus: bool,
) -> None:
    x, y = at
    colour = colours.get(node.domain, GREY) if node.domain else GREY
    group = sub(root, "a", href=link(node.key)) if node.domain else sub(root, "g")
    group.set("class", "node focus" if focus else "node")
    sub(group, "title", text=f"{node.label} ({node.detail})")
    sub(
        group,
        "rect",
        x=x,
        y=y,
        width=NODE_W,
        height=NODE_H,
        rx=6,
        fill="#fff" if node.domain else "#f4f4f4",
        stroke=colour,
        stroke_width=3 if focus else 1.5,
        stroke_dasharray=None if node.domain else "4 3",
    )
    text(group, x + 8, y + 15, _short(node.label), font_weight="bold" if focus else None)
    text(group, x + 8, y + 30, _short(node.detail), fill="#555", font_size=11)


def _domain_colours(mesh: MeshDoc) -> dict[str, str]:
    return {d.name: PALETTE[i % len(PALETTE)] for i, d in enumerate(mesh.domains)}


def _legend(root: ET.Element, colours: dict[str, str], shown: set[str], height: float) -> None:
    x = float(MARGIN)
    for domain, colour in colours.items():
        if domain not in shown:
            continue
        sub(root, "rect", x=x, y=height - 22, width=10, height=10, fill=colour)
        text(root, x + 14, height - 13, f"domain {domain}")
        x += 40 + 7 * len(domain) + 40


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"
