"""The run charts of a data product, as inline SVG (no script, no library to download):
the pass-rate trend and the failing rows by rule, one mark per run, oldest on the left."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from meshc.docs_site.runs import RunPoint
from meshc.docs_site.svg import GREY, PALETTE, sub, svg_root, text, to_string

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 40, 64
MAX_X_LABELS = 8
MAX_RULES = len(PALETTE)  # more rules than colours: the rest are summed as "other rules"
FAILED, PASSED = "#D55E00", "#0072B2"


@dataclass(frozen=True)
class _Frame:
    """The plot area and a y scale from `low` to `high`."""

    low: float
    high: float

    @property
    def width(self) -> float:
        return WIDTH - LEFT - RIGHT

    @property
    def height(self) -> float:
        return HEIGHT - TOP - BOTTOM

    def x(self, i: int, n: int) -> float:
        return LEFT + self.width * (i + 0.5) / n

    def y(self, value: float) -> float:
        return TOP + self.height * (1 - (value - self.low) / (self.high - self.low))


def pass_rate_chart(runs: Sequence[RunPoint]) -> str:
    """Percent of source rows that passed, per run; failed runs are marked in another colour."""
    rates = [r.pass_rate for r in runs]
    known = [v for v in rates if v is not None]
    low = max(0.0, math.floor((min(known, default=0.0) - 5) / 10) * 10)
    frame = _Frame(low, 100.0)
    legend = _legend_rows([(PASSED, "run ok"), (FAILED, "run failed")])
    root = svg_root(WIDTH, _height(legend), "Pass rate by run", "chart chart-pass-rate")
    span = 100.0 - low
    step = 2.0 if span <= 10 else 5.0 if span <= 20 else 10.0 if span <= 50 else 20.0
    _axes(root, frame, runs, _ticks(low, 100.0, step), "rows passing (%)", "{:g}")
    points = [(frame.x(i, len(runs)), frame.y(v)) for i, v in enumerate(rates) if v is not None]
    if len(points) > 1:
        sub(
            root,
            "polyline",
            points=" ".join(f"{x:.2f},{y:.2f}" for x, y in points),
            fill="none",
            stroke=PASSED,
            stroke_width=2,
        )
    for i, run in enumerate(runs):
        if run.pass_rate is None:
            continue
        colour = PASSED if run.status == "ok" else FAILED
        dot = sub(root, "circle", cx=frame.x(i, len(runs)), cy=frame.y(run.pass_rate), r=4.0)
        dot.set("fill", colour)
        sub(dot, "title", text=f"{_tip(run)}: {run.pass_rate:.2f}% passed ({run.status})")
    _legend(root, legend)
    return to_string(root)


def quarantine_chart(runs: Sequence[RunPoint], severity: dict[str, str]) -> str:
    """Failing rows per rule and run, stacked; a run recorded before meshc kept per-rule counts
    shows its quarantined rows as one grey bar. `severity`: rule id -> error/warn (legend)."""
    rules = _top_rules(runs)
    stacks = [_stack(run, rules) for run in runs]
    step = _count_step(max((sum(v for _, v in s) for s in stacks), default=0))
    frame = _Frame(0.0, 4.0 * step)
    colours = {rule: PALETTE[i] for i, rule in enumerate(rules)}
    entries = [(colours[r], f"{r} ({severity.get(r, 'error')})") for r in rules]
    if any(rule not in colours for s in stacks for rule, _ in s):
        entries.append((GREY, "other rules / no per-rule counts"))
    legend = _legend_rows(entries)
    root = svg_root(
        WIDTH, _height(legend), "Failing rows by rule, per run", "chart chart-quarantine"
    )
    _axes(root, frame, runs, _ticks(0.0, 4.0 * step, step), "failing rows", "{:g}")
    bar = 0.6 * frame.width / max(len(runs), 1)
    for i, (run, stack) in enumerate(zip(runs, stacks, strict=True)):
        base = 0.0
        for rule, value in stack:
            top = base + value
            rect = sub(
                root,
                "rect",
                x=frame.x(i, len(runs)) - bar / 2,
                y=frame.y(top),
                width=bar,
                height=frame.y(base) - frame.y(top),
            )
            rect.set("fill", colours.get(rule, GREY))
            sub(rect, "title", text=f"{_tip(run)}: {rule}: {value} rows")
            base = top
    _legend(root, legend)
    return to_string(root)


def _top_rules(runs: Sequence[RunPoint]) -> list[str]:
    """The rules with the most failing rows over all runs, at most one per colour."""
    totals: dict[str, int] = {}
    for run in runs:
        for rule, n in (run.rule_failures or {}).items():
            if n > 0:
                totals[rule] = totals.get(rule, 0) + n
    ranked = sorted(totals, key=lambda r: (-totals[r], r))
    return ranked[:MAX_RULES] if len(ranked) <= MAX_RULES else ranked[: MAX_RULES - 1]


def _stack(run: RunPoint, rules: list[str]) -> list[tuple[str, int]]:
    if run.rule_failures is None:
        return [("quarantined rows (no per-rule counts in this record)", run.rows_quarantined)]
    shown = [(r, run.rule_failures.get(r, 0)) for r in rules]
    other = sum(n for r, n in run.rule_failures.items() if r not in rules)
    return [(r, n) for r, n in shown if n > 0] + ([("other rules", other)] if other else [])


def _axes(
    root: ET.Element,
    frame: _Frame,
    runs: Sequence[RunPoint],
    ticks: list[float],
    y_label: str,
    fmt: str,
) -> None:
    """Grid, y ticks, x labels (start times), the axis titles and the chart title."""
    title = root.findtext("title") or ""
    text(root, WIDTH / 2, 20, title, "middle", font_weight="bold", font_size=14)
    for value in ticks:
        y = frame.y(value)
        sub(root, "line", x1=LEFT, x2=WIDTH - RIGHT, y1=y, y2=y, stroke="#e0e0e0")
        text(root, LEFT - 6, y + 4, fmt.format(value), "end")
    bottom = TOP + frame.height
    sub(root, "line", x1=LEFT, x2=WIDTH - RIGHT, y1=bottom, y2=bottom, stroke="#333")
    sub(root, "line", x1=LEFT, x2=LEFT, y1=TOP, y2=bottom, stroke="#333")
    step = max(1, math.ceil(len(runs) / MAX_X_LABELS))
    for i in range(0, len(runs), step):
        text(root, frame.x(i, len(runs)), bottom + 16, _short_time(runs[i].started_at), "middle")
    text(root, LEFT + frame.width / 2, HEIGHT - 28, "run (start time, as recorded)", "middle")
    y_mid = TOP + frame.height / 2
    label = text(root, 16, y_mid, y_label, "middle")
    label.set("transform", f"rotate(-90 16 {y_mid:.2f})")


_Legend = list[list[tuple[str, str, float]]]  # rows of (colour, label, x)


def _legend_rows(entries: list[tuple[str, str]]) -> _Legend:
    """Legend entries laid out left to right, wrapping to a new row at the chart's width."""
    rows: _Legend = [[]]
    x = float(LEFT)
    for colour, label in entries:
        width = 24 + 6.5 * len(label)  # 12px system-ui averages about 6.5px a character
        if rows[-1] and x + width > WIDTH:
            rows.append([])
            x = float(LEFT)
        rows[-1].append((colour, label, x))
        x += width
    return rows


def _height(legend: _Legend) -> float:
    return HEIGHT + 16 * (len(legend) - 1)


def _legend(root: ET.Element, legend: _Legend) -> None:
    for i, row in enumerate(legend):
        y = HEIGHT - 14 + 16 * i
        for colour, label, x in row:
            sub(root, "rect", x=x, y=y, width=10, height=10, fill=colour)
            text(root, x + 14, y + 9, label)


def _ticks(low: float, high: float, step: float) -> list[float]:
    return [low + step * i for i in range(round((high - low) / step) + 1)]


def _count_step(value: float) -> float:
    """A round tick step (1, 2 or 5 x 10^k) such that four steps reach `value`."""
    magnitude = 1.0
    while True:
        for factor in (1, 2, 5):
            if 4 * factor * magnitude >= value:
                return factor * magnitude
        magnitude *= 10


def _short_time(iso: str) -> str:
    """'2026-12-01T12:30:05.123+00:00' -> '12-01 12:30:05' (the year is in the runs table)."""
    date, _, time = iso.partition("T")
    return f"{date[5:]} {time[:8]}".strip()


def _tip(run: RunPoint) -> str:
    return f"run {run.run_id[:12]} at {run.started_at}"
