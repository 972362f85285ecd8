"""The progress report: one HTML file a coordinator can open offline, or mail on.

Everything is inside the file: the style sheet is inline and every chart is a small SVG
written here by hand and embedded as a data URI (so the markup of one chart cannot clash
with another's). The same SVG goes into the Dagster UI. Values become floats only as
plot coordinates; every number printed comes from the Decimal values, and the same data
always gives the same bytes.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd

from pipelines.core.indicators.compute import floor_gaps
from pipelines.core.outputs.parquet import write_atomic
from pipelines.core.outputs.report_submissions import (
    grid_html,
    refused_html,
    status_grid_html,
    what_to_fix_html,
)
from pipelines.core.reference.loader import Reference

_ACHIEVED_COLOUR = "#1f5f8b"
_TARGET_COLOUR = "#c0392b"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem;
       color: #222; max-width: 70rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.meta { color: #666; }
table { border-collapse: collapse; margin: .6rem 0; }
th, td { padding: .25rem .55rem; border: 1px solid #ddd; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.good { background: #d9f2d9; } .fair { background: #fff0c2; } .poor { background: #f9d6d2; }
.none { background: #eee; color: #777; }
.bar { background: #e6e6e6; width: 8rem; height: .6rem; }
.bar span { display: block; height: 100%; background: #2e7d32; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; width: 21rem; } figure img { width: 100%; }
figcaption { font-size: .85rem; color: #444; }
table.grid td { text-align: center; min-width: 2.4rem; }
table.grid th small { font-weight: normal; color: #666; }
th.partner { white-space: nowrap; max-width: 16rem; overflow: hidden; text-overflow: ellipsis; }
td.on_time { background: #d9f2d9; } td.late { background: #fff0c2; }
td.rejected { background: #f4b6ae; font-weight: bold; } td.missing { background: #f9d6d2; }
td.not_yet_due { background: #e8f0fb; color: #555; } td.not_expected { background: #eee; }
td.latest_refused { outline: 2px solid #c0392b; outline-offset: -2px; }
table.issues tr.error td { background: #fdf0ee; }
section.partner-fix h3 { margin-bottom: .3rem; }
"""


# --- charts ------------------------------------------------------------------------

_WIDTH, _HEIGHT = 340, 190  # about the size the report shows it at, so text stays legible
_LEFT, _RIGHT, _TOP, _BOTTOM = 42, 8, 26, 24  # margins around the plot area
_FONT = "font-family='system-ui, Helvetica, Arial, sans-serif'"


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
) -> bytes:
    """The indicator's achieved value after each period (line) against its target (dashed).

    ``periods`` gives the x axis (default: the periods in ``progress``); a period without
    a value has no point. The axis always includes zero and the target.
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

    title = f"{indicator_id}: achieved (line) vs target {_number(target)} (dashed)"
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{_WIDTH}' height='{_HEIGHT}' "
        f"viewBox='0 0 {_WIDTH} {_HEIGHT}' {_FONT} font-size='10' fill='#333'>",
        f"<text x='{_WIDTH // 2}' y='15' text-anchor='middle' font-size='11'>"
        f"{html.escape(title)}</text>",
    ]
    for tick in ticks:
        colour = "#999" if tick == 0 else "#e4e4e4"
        parts.append(
            f"<line x1='{_LEFT}' x2='{_WIDTH - _RIGHT}' y1='{y(tick):.1f}' y2='{y(tick):.1f}' "
            f"stroke='{colour}'/><text x='{_LEFT - 5}' y='{y(tick) + 3.5:.1f}' "
            f"text-anchor='end'>{html.escape(_compact(tick))}</text>"
        )
    label_w = max(map(len, periods), default=0) * 5.6 + 2  # 9 px text and a gap
    every = math.ceil(label_w / slot_w)  # so many periods per label, lest labels overlap
    for i, period in enumerate(periods):
        if i % every == 0:
            parts.append(
                f"<text x='{x(i):.1f}' y='{_HEIGHT - _BOTTOM + 15}' text-anchor='middle' "
                f"font-size='9'>{html.escape(period)}</text>"
            )
    bottom = _HEIGHT - _BOTTOM
    parts.append(
        f"<path d='M{_LEFT} {_TOP}V{bottom}H{_WIDTH - _RIGHT}' fill='none' stroke='#666'/>"
        f"<line class='target' x1='{_LEFT}' x2='{_WIDTH - _RIGHT}' y1='{y(float(target)):.1f}' "
        f"y2='{y(float(target)):.1f}' stroke='{_TARGET_COLOUR}' stroke-width='1.5' "
        "stroke-dasharray='6 4'/>"
    )
    marks = [
        (f"{x(i):.1f}", f"{y(float(v)):.1f}", f"{periods[i]}: {_number(v)}") for i, v in points
    ]
    if marks:
        line = " ".join(f"{cx},{cy}" for cx, cy, _ in marks)
        parts.append(
            f"<polyline class='achieved' points='{line}' fill='none' "
            f"stroke='{_ACHIEVED_COLOUR}' stroke-width='2'/>"
        )
    parts.extend(
        f"<circle class='point' cx='{cx}' cy='{cy}' r='3' fill='{_ACHIEVED_COLOUR}'>"
        f"<title>{html.escape(label)}</title></circle>"
        for cx, cy, label in marks
    )
    parts.append("</svg>")
    return "".join(parts).encode("utf-8")


def data_uri(content: bytes, mime: str) -> str:
    """``content`` as a data URI, so a page or a markdown snippet needs no other file."""
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


# --- HTML pieces -------------------------------------------------------------------


def _number(value: Decimal | None, unit: str = "") -> str:
    """A value as a person reads it: thousands separated, cents only for money."""
    if value is None:
        return "–"
    if unit == "EUR":
        return f"{value:,.2f}"
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def _cue(pct: Decimal | None) -> str:
    """The colour class of a % of target: met, halfway, behind, or not measurable."""
    if pct is None:
        return "none"
    if pct >= 100:
        return "good"
    return "fair" if pct >= 50 else "poor"


def _scorecard_html(scorecard: pd.DataFrame) -> str:
    rows = []
    for r in scorecard.itertuples(index=False):
        pct = "–" if r.pct_of_target is None else f"{r.pct_of_target:.1f} %"
        width = 0 if r.pct_of_target is None else min(float(r.pct_of_target), 100.0)
        rows.append(
            f"<tr><td>{html.escape(r.indicator_id)}</td><td>{html.escape(r.name)}</td>"
            f"<td>{html.escape(r.unit)}</td><td class='num'>{_number(r.target, r.unit)}</td>"
            f"<td class='num'>{_number(r.achieved, r.unit)}</td>"
            f"<td class='num'>{_number(r.achieved_approved, r.unit)}</td>"
            f"<td class='num {_cue(r.pct_of_target)}'>{pct}</td>"
            f"<td><div class='bar'><span style='width:{width:.0f}%'></span></div></td></tr>"
        )
    head = (
        "<tr><th>Indicator</th><th>Name</th><th>Unit</th><th>Target</th><th>Achieved</th>"
        "<th title='From the partner-periods the coordinator approved'>Approved only</th>"
        "<th>% of target</th><th></th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _charts_html(scorecard: pd.DataFrame, progress: pd.DataFrame, periods: Sequence[str]) -> str:
    figures = []
    for r in scorecard.itertuples(index=False):
        svg = indicator_chart_svg(r.indicator_id, progress, r.target, periods)
        label = html.escape(f"{r.indicator_id} {r.name}")
        figures.append(
            f"<figure id='chart-{html.escape(r.indicator_id)}'>"
            f"<img alt='Progress of {label}' src='{data_uri(svg, 'image/svg+xml')}'>"
            f"<figcaption>{label} ({html.escape(r.unit)})</figcaption></figure>"
        )
    return f"<div class='charts'>{''.join(figures)}</div>"


def _floor_html(floor: pd.DataFrame, ref: Reference) -> str:
    gaps = floor_gaps(floor)
    if floor.empty:
        return "<p>No phase-1 semester to check.</p>"
    summary = (
        "<p>The floor is met in every phase-1 semester.</p>"
        if gaps.empty
        else f"<p>{len(gaps)} of {len(floor)} partner-semesters without a regional stakeholder"
        " meeting (red). Numbers are meetings held in the semester.</p>"
    )
    grid = floor.pivot(index="partner_id", columns="period_id", values="meetings")
    grid = grid.reindex(
        index=list(dict.fromkeys(floor["partner_id"])),
        columns=list(dict.fromkeys(floor["period_id"])),
    )

    def cell(partner: str, period: str) -> tuple[str, str, str]:
        meetings = int(grid.loc[partner, period])
        css = "on_time" if meetings else "missing"
        return css, str(meetings), f"{partner} {period}: {meetings} meeting(s)"

    return summary + grid_html(list(grid.index), list(grid.columns), cell, ref, "floor-grid")


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
    sections = [
        "<h2>Indicators against their targets</h2>",
        _scorecard_html(scorecard),
        "<h2>Progress per indicator</h2>",
        "<p>Each chart shows the indicator as it stood once the workbooks of a period and"
        " all earlier ones were in; the dashed line is the target.</p>",
        _charts_html(scorecard, progress, _periods(progress, ref)),
        "<h2 id='workbooks'>Workbooks received</h2>",
        status_grid_html(statuses, ref),
        "<h3 id='refused'>Refused workbooks</h3>",
        refused_html(statuses, ref),
        "<h2 id='what-to-fix'>What to fix, per partner</h2>",
        "<p>Refused and missing workbooks, and the open issues of each partner's workbooks"
        " (the latest one and the one in use): file, sheet, row and column as in the"
        " spreadsheet. Each partner also gets these issues in a feedback workbook.</p>",
        what_to_fix_html(statuses, issues, ref),
        "<h2>Regional stakeholder meetings: phase-1 floor</h2>",
        "<p>Every partner with a policy instrument holds at least one regional stakeholder"
        " meeting in every phase-1 semester (10 × 6 = 60).</p>",
        _floor_html(floor, ref),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>CLUSTERIX 2.0 progress report</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>CLUSTERIX 2.0 progress report</h1>"
        f"<p class='meta'>Generated {html.escape(generated_at)}</p>"
        "<p>How far the Interreg Europe project CLUSTERIX 2.0 is from the output and result"
        " indicators promised in its application form, computed from the partners' latest"
        " accepted workbooks (a figure restated in a later period replaces the earlier one),"
        " and which partners have reported for which period. Green: target met; amber:"
        " halfway or more; red: less than halfway.</p>"
        f"{''.join(sections)}</body></html>"
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
