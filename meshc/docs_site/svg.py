"""Small SVG building blocks on xml.etree.ElementTree, which escapes every text and attribute
value: contract text (rule ids, names, descriptions) reaches the charts and must stay text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

# Colour-blind-safe qualitative palette (Okabe-Ito), then greys.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
GREY = "#9a9a9a"
FONT = "font-family:system-ui,sans-serif;font-size:12px"


def svg_root(width: float, height: float, title: str, css_class: str) -> ET.Element:
    """An <svg> with an accessible name (<title>) and a fixed viewBox that scales with CSS."""
    root = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "class": css_class,
            "viewBox": f"0 0 {_n(width)} {_n(height)}",
            "width": _n(width),
            "height": _n(height),
            "role": "img",
            "style": FONT,
        },
    )
    sub(root, "title", text=title)
    return root


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: Any) -> ET.Element:
    """A child element; `class_` and other trailing-underscore names lose the underscore, and
    `_` in other names becomes `-` (stroke_width -> stroke-width)."""
    el = ET.SubElement(
        parent, tag, {_attr(k): _value(v) for k, v in attrs.items() if v is not None}
    )
    if text is not None:
        el.text = text
    return el


def text(
    parent: ET.Element, x: float, y: float, value: str, anchor: str = "start", **attrs: Any
) -> ET.Element:
    return sub(parent, "text", text=value, x=x, y=y, text_anchor=anchor, **attrs)


def to_string(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)


def _attr(name: str) -> str:
    return name.rstrip("_").replace("_", "-")


def _value(value: Any) -> str:
    return _n(value) if isinstance(value, float) else str(value)


def _n(value: float) -> str:
    """Coordinates with at most two decimals (smaller files, stable output)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
