"""The progress report: one HTML file a coordinator can open offline, or mail on.

Everything is inside the file: the style sheet is inline and every chart is a small SVG
embedded as a data URI (so the markup of one chart cannot clash with another's). The
same SVG goes into the Dagster UI. The page and the charts come from the Jinja2
templates ``templates/report.html.j2`` and ``templates/chart.svg.j2``, which escape
every value; this module computes what they show. Values become floats
only as plot coordinates; every number printed comes from the Decimal values through
:mod:`pipelines.core.outputs.numbers`, and the same data always gives the same bytes. What is
not known (a figure with no accepted workbook behind it) is written as unknown, never
as 0.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.core.outputs.numbers import figure, percent
from pipelines.core.outputs.pages import render
from pipelines.core.outputs.report_submissions import (
    fix_sections,
    grid_periods,
    grid_rows,
    late_rows,
    refused_rows,
    status_grid,
)
from pipelines.core.reference.model import Reference
from pipelines.core.reference.project import MeetingFloor, Project
from pipelines.platform.files import write_atomic

_ACHIEVED_COLOUR = "#1f5f8b"
_TARGET_COLOUR = "#c0392b"
_APPROVED = "approved"


# --- charts ------------------------------------------------------------------------

_WIDTH, _HEIGHT = 340, 190  # about the size the report shows it at, so text stays legible
_LEFT, _RIGHT, _TOP, _BOTTOM = 42, 8, 26, 24  # margins around the plot area


def _compact(value: float) -> str:
    """An axis label short enough for a small chart: 2.5M, 750k, 12, −10."""
    value = round(value, 9) + 0.0  # drop float noise and a negative zero
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}".replace("-", "−")
    return f"{value:g}".replace("-", "−")


def _ticks(low: float, high: float, integral: bool) -> list[float]:
    """Four or so round steps covering low..high; whole steps when the data is whole."""
    raw = (high - low) / 4
    magnitude = 10.0 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if integral and magnitude <= 1 else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in steps if m * magnitude >= raw)
    step = max(step, 1.0) if integral else step
    return [i * step for i in range(math.floor(low / step), math.ceil(high / step) + 1)]


def indicator_chart_svg(
    indicator_id: str,
    progress: pd.DataFrame,
    target: Decimal,
    periods: Sequence[str] | None = None,
    unit: str = "",
) -> bytes:
    """The indicator's achieved value after each period (line) against its target (dashed).

    ``periods`` gives the x axis (default: the periods in ``progress``); a period without
    a value has no point. The axis always includes zero and the target. Figures in the
    title and the points' tooltips are written as ``unit`` is (``5.00`` for a %).
    """
    periods = list(dict.fromkeys(progress["period_id"])) if periods is None else list(periods)
    rows = progress[(progress["indicator_id"] == indicator_id) & progress["achieved"].notna()]
    slot = {period: i for i, period in enumerate(periods)}
    points = [
        (slot[p], v) for p, v in zip(rows["period_id"], rows["achieved"], strict=True) if p in slot
    ]
    values = [float(target), *(float(v) for _, v in points)]
    low, high = min(0.0, *values), max(0.0, *values)
    headroom = (high - low) / 20 or 1.0  # nothing drawn on the frame; a flat zero still has an axis
    integral = all(v == v.to_integral_value() for v in [target, *(v for _, v in points)])
    ticks = _ticks(low - headroom if low < 0 else low, high + headroom, integral)
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    slot_w = plot_w / max(len(periods), 1)

    def x(i: int) -> float:
        return _LEFT + (i + 0.5) * slot_w

    def y(value: float) -> float:
        return _TOP + (ticks[-1] - value) / (ticks[-1] - ticks[0]) * plot_h

    label_w = max(map(len, periods), default=0) * 5.6 + 2  # 9 px text and a gap
    every = math.ceil(label_w / slot_w)  # so many periods per label, lest labels overlap
    svg = render(
        "chart.svg.j2",
        width=_WIDTH,
        height=_HEIGHT,
        left=_LEFT,
        right=_WIDTH - _RIGHT,
        top=_TOP,
        bottom=_HEIGHT - _BOTTOM,
        title=f"{indicator_id}: achieved (line) vs target {figure(target, unit)} (dashed)",
        ticks=[
            {
                "y": f"{y(tick):.1f}",
                "label_y": f"{y(tick) + 3.5:.1f}",
                "colour": "#999" if tick == 0 else "#e4e4e4",
                "label": _compact(tick),
            }
            for tick in ticks
        ],
        period_labels=[
            {"x": f"{x(i):.1f}", "label": period}
            for i, period in enumerate(periods)
            if i % every == 0
        ],
        target_y=f"{y(float(target)):.1f}",
        target_colour=_TARGET_COLOUR,
        achieved_colour=_ACHIEVED_COLOUR,
        marks=[
            {
                "cx": f"{x(i):.1f}",
                "cy": f"{y(float(v)):.1f}",
                "label": f"{periods[i]}: {figure(v, unit)}",
            }
            for i, v in points
        ],
    )
    return svg.encode("utf-8")


def data_uri(content: bytes, mime: str) -> str:
    """``content`` as a data URI, so a page or a markdown snippet needs no other file."""
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


# --- the page ----------------------------------------------------------------------


def _cue(pct: Decimal | None) -> str:
    """The colour class of a % of target: met, halfway, behind, or not measurable."""
    if pct is None:
        return "none"
    if pct >= 100:
        return "good"
    return "fair" if pct >= 50 else "poor"


def _scorecard(scorecard: pd.DataFrame, any_approved: bool) -> list[dict[str, str]]:
    return [
        {
            "indicator_id": r.indicator_id,
            "name": r.name,
            "unit": r.unit,
            "target": figure(r.target, r.unit),
            "achieved": figure(r.achieved, r.unit),
            "approved": figure(r.achieved_approved, r.unit)
            if any_approved
            else "none approved yet",
            "pct": percent(r.pct_of_target),
            "cue": _cue(r.pct_of_target),
            "width": "0" if r.pct_of_target is None else f"{min(float(r.pct_of_target), 100):.0f}",
        }
        for r in scorecard.itertuples(index=False)
    ]


def chart_alt(indicator: Any, progress: pd.DataFrame, periods: Sequence[str]) -> str:
    """A chart's values in words, for whoever cannot see it: target, then each period.

    ``indicator`` is the indicator's scorecard row, ``progress`` its rows of the
    ``indicator_progress`` table.
    """
    by_period = dict(zip(progress["period_id"], progress["achieved"], strict=True))
    values = [
        f"{p} {figure(by_period[p], indicator.unit)}"
        for p in periods
        if p in by_period and not pd.isna(by_period[p])
    ]
    shown = "; ".join(values) if values else "no value yet"
    target = figure(indicator.target, indicator.unit)
    return (
        f"{indicator.indicator_id} {indicator.name}: target {target} {indicator.unit};"
        f" achieved after each period: {shown}"
    )


def _charts(
    scorecard: pd.DataFrame, progress: pd.DataFrame, periods: Sequence[str]
) -> list[dict[str, str]]:
    # Split once: filtering the whole progress table per chart cost more than drawing it.
    of = dict(list(progress.groupby("indicator_id", sort=False)))
    charts = []
    for r in scorecard.itertuples(index=False):
        mine = of.get(r.indicator_id, progress.iloc[0:0])
        svg = indicator_chart_svg(r.indicator_id, mine, r.target, periods, r.unit)
        charts.append(
            {
                "indicator_id": r.indicator_id,
                "label": f"{r.indicator_id} {r.name}",
                "unit": r.unit,
                "alt": chart_alt(r, mine, periods),
                "src": data_uri(svg, "image/svg+xml"),
            }
        )
    return charts


def _floor_rule(
    project: Project, floor: MeetingFloor, partners: int, periods: int
) -> dict[str, str]:
    """The declared floor in words (its heading, the rule with its count of
    partner-periods, the event it counts), from project.yaml rather than one project's."""
    phase = project.phase_name(floor.phase)
    event = floor.event_type.replace("_", " ")
    return {
        "heading": f"{event[:1].upper()}{event[1:]}s: floor in {phase}",
        "rule": f"Every partner with a policy instrument holds at least {floor.minimum}"
        f" {event}(s) in every period of {phase} ({partners} partners × {periods} periods"
        f" = {partners * periods}).",
        "event": event,
    }


def _floor(floor: pd.DataFrame, ref: Reference) -> dict[str, Any] | None:
    """The floor grid: meetings per partner-period, met, a gap or unknown as the published
    table decides (``floor_met``, empty where no workbook of the partner is in use), so
    the report and ``clusterix run`` say the same. None when the project declares no
    floor: the report then has no such section.
    """
    rule = ref.project.floor
    if rule is None:
        return None
    partners = list(dict.fromkeys(floor["partner_id"]))
    periods = list(dict.fromkeys(floor["period_id"]))
    words = _floor_rule(ref.project, rule, len(partners), len(periods))
    if floor.empty:
        return {**words, "rows": [], "periods": [], "summary": ""}
    meetings = {(r.partner_id, r.period_id): int(r.meetings) for r in floor.itertuples(index=False)}
    met = dict(
        zip(
            zip(floor["partner_id"], floor["period_id"], strict=True),
            floor["floor_met"].astype("boolean"),
            strict=True,
        )
    )

    def cell(partner: str, period: str) -> dict[str, str]:
        held = meetings[partner, period]
        if pd.isna(met[partner, period]):
            return {
                "css": "unknown",
                "text": "unknown",
                "note": "",
                "title": f"{partner} {period}: unknown, no workbook of the partner in use",
                "href": "",
            }
        css = "on_time" if met[partner, period] else "missing"
        title = f"{partner} {period}: {held} meeting(s)"
        return {"css": css, "text": str(held), "note": "", "title": title, "href": ""}

    rows = grid_rows(partners, periods, cell, ref)
    shown = [c["css"] for row in rows for c in row["cells"]]
    gaps, unknown = shown.count("missing"), shown.count("unknown")
    summary = (
        f"The floor is met in {shown.count('on_time')} of {len(shown)} partner-periods;"
        f" {gaps} without a {words['event']}; {unknown} unknown (no workbook of"
        " the partner in use for the period)."
    )
    return {**words, "rows": rows, "periods": grid_periods(ref, periods), "summary": summary}


def _periods(progress: pd.DataFrame, ref: Reference) -> list[str]:
    """Every period of the project, then any other that progress mentions."""
    return list(dict.fromkeys([*ref.period_ids, *progress["period_id"]]))


def report_html(
    scorecard: pd.DataFrame,
    progress: pd.DataFrame,
    statuses: pd.DataFrame,
    floor: pd.DataFrame,
    issues: pd.DataFrame,
    ref: Reference,
    generated_at: str,
) -> str:
    """The whole report as one HTML document.

    ``statuses`` comes from ``completeness.submission_statuses`` and ``issues`` is the
    ``validation_issues`` table.
    """
    status = status_grid(statuses, ref)
    any_approved = bool((statuses["review_status"] == _APPROVED).any())
    return render(
        "report.html.j2",
        generated_at=generated_at,
        project=ref.project,
        scorecard=_scorecard(scorecard, any_approved),
        charts=_charts(scorecard, progress, _periods(progress, ref)),
        status=status,
        periods=status["periods"],
        late=late_rows(statuses, ref),
        refused=refused_rows(statuses, ref),
        fixes=fix_sections(statuses, issues, ref),
        floor=_floor(floor, ref),
    )


def write_report(
    path: Path,
    scorecard: pd.DataFrame,
    progress: pd.DataFrame,
    statuses: pd.DataFrame,
    floor: pd.DataFrame,
    issues: pd.DataFrame,
    ref: Reference,
    generated_at: str,
) -> Path:
    """Write the report to ``path`` atomically, so a reader never sees half a page."""
    page = report_html(scorecard, progress, statuses, floor, issues, ref, generated_at)
    return write_atomic(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
