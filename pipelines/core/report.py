"""The progress report: one HTML file a coordinator can open offline, or mail on.

Everything is inside the file: the style sheet is inline and every chart is an SVG
drawn by matplotlib and embedded as a data URI (which also keeps the ids of one
chart from clashing with another's). Charts are drawn on a bare ``Figure`` so no
global pyplot state or GUI backend is involved, and with a fixed SVG hash salt so
the same figures give the same bytes. Values become floats only as plot
coordinates; every number printed comes from the Decimal values.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from pipelines.core.indicators import (
    LATE,
    MISSING,
    NOT_EXPECTED,
    ON_TIME,
    completeness_grid,
    floor_gaps,
    overall_reporting_rate,
)
from pipelines.core.publish import write_atomic

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "clusterix",
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_ACHIEVED_COLOUR = "#1f5f8b"
_TARGET_COLOUR = "#c0392b"

_CELL_TEXT = {ON_TIME: "✓", LATE: "late", MISSING: "✗", NOT_EXPECTED: ""}
_CELL_TITLE = {
    ON_TIME: "received on time",
    LATE: "received after the deadline",
    MISSING: "not received",
    NOT_EXPECTED: "not expected (no part in this phase)",
}

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
td.on_time { background: #d9f2d9; } td.late { background: #fff0c2; }
td.missing { background: #f9d6d2; } td.not_expected { background: #eee; }
"""


# --- charts ------------------------------------------------------------------------


def _compact(value: float, _position: object = None) -> str:
    """An axis label short enough for a small chart: 2.5M, 750k, 12."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _chart(
    indicator_id: str, progress: pd.DataFrame, target: Decimal, periods: Sequence[str]
) -> Figure:
    """Achieved after each period against the target line, on every period's axis."""
    rows = progress[(progress["indicator_id"] == indicator_id) & progress["achieved"].notna()]
    position = {period: i for i, period in enumerate(periods)}
    rows = rows[rows["period_id"].isin(position)]
    figure = Figure(figsize=(4.2, 2.3))
    figure.subplots_adjust(left=0.1, right=0.98, bottom=0.12, top=0.88)
    axes = figure.add_subplot()
    axes.axhline(float(target), color=_TARGET_COLOUR, linestyle="--", linewidth=1)
    axes.plot(
        [position[p] for p in rows["period_id"]],
        [float(v) for v in rows["achieved"]],
        color=_ACHIEVED_COLOUR,
        marker="o",
        markersize=3,
        linewidth=1.5,
    )
    axes.set_xticks(range(len(periods)), list(periods), fontsize=6.5)
    axes.set_xlim(-0.5, len(periods) - 0.5)
    if all(v >= 0 for v in rows["achieved"]):
        axes.set_ylim(bottom=0)  # counts and amounts start from nothing; a fall in C1 may not
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5))
    axes.yaxis.set_major_formatter(FuncFormatter(_compact))
    axes.set_title(f"{indicator_id}: achieved (line) vs target {_number(target)} (dashed)")
    return figure


def _render(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(buffer, format=fmt, dpi=100, metadata=metadata)
    return buffer.getvalue()


def indicator_chart_svg(
    indicator_id: str,
    progress: pd.DataFrame,
    target: Decimal,
    periods: Sequence[str] | None = None,
) -> bytes:
    """The indicator's progress chart as SVG (periods default to those in ``progress``)."""
    periods = list(dict.fromkeys(progress["period_id"])) if periods is None else periods
    with matplotlib.rc_context(_RC):
        return _render(_chart(indicator_id, progress, target, periods), "svg")


def indicator_chart_png(
    indicator_id: str,
    progress: pd.DataFrame,
    target: Decimal,
    periods: Sequence[str] | None = None,
) -> bytes:
    """The same chart as a small PNG, for a markdown data-URI image in the Dagster UI."""
    periods = list(dict.fromkeys(progress["period_id"])) if periods is None else periods
    with matplotlib.rc_context(_RC):
        return _render(_chart(indicator_id, progress, target, periods), "png")


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
            f"<td class='num {_cue(r.pct_of_target)}'>{pct}</td>"
            f"<td><div class='bar'><span style='width:{width:.0f}%'></span></div></td></tr>"
        )
    head = (
        "<tr><th>Indicator</th><th>Name</th><th>Unit</th><th>Target</th><th>Achieved</th>"
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


Cell = Callable[[str, str], tuple[str, str, str]]


def _grid_html(grid: pd.DataFrame, cell: Cell) -> str:
    """A partner x period table; ``cell(partner, period)`` gives (css class, text, title)."""
    head = "<tr><th>Partner</th>" + "".join(f"<th>{html.escape(p)}</th>" for p in grid.columns)
    rows = []
    for partner in grid.index:
        cells = []
        for period in grid.columns:
            css, text, title = cell(partner, period)
            cells.append(f"<td class='{css}' title='{html.escape(title)}'>{html.escape(text)}</td>")
        rows.append(f"<tr><th>{html.escape(partner)}</th>{''.join(cells)}</tr>")
    return f"<table class='grid'>{head}</tr>{''.join(rows)}</table>"


def _completeness_html(completeness: pd.DataFrame) -> str:
    grid = completeness_grid(completeness)
    rate = overall_reporting_rate(completeness)
    received = int(completeness["received"].sum())
    summary = (
        f"<p>{received} of {len(completeness)} expected workbooks received "
        f"({'–' if rate is None else f'{rate:.1f} %'}). "
        "✓ on time, <em>late</em> after the deadline, ✗ missing, grey: not expected.</p>"
    )

    def cell(partner: str, period: str) -> tuple[str, str, str]:
        state = grid.loc[partner, period]
        return state, _CELL_TEXT[state], f"{partner} {period}: {_CELL_TITLE[state]}"

    return summary + _grid_html(grid, cell)


def _floor_html(floor: pd.DataFrame) -> str:
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

    return summary + _grid_html(grid, cell)


def _periods(progress: pd.DataFrame, completeness: pd.DataFrame) -> list[str]:
    """Every period of the project: those expected, then any other progress mentions."""
    return list(dict.fromkeys([*completeness["period_id"], *progress["period_id"]]))


def report_html(
    scorecard: pd.DataFrame,
    progress: pd.DataFrame,
    completeness: pd.DataFrame,
    floor: pd.DataFrame,
    generated_at: str,
) -> str:
    """The whole report as one HTML document."""
    sections = [
        "<h2>Indicators against their targets</h2>",
        _scorecard_html(scorecard),
        "<h2>Progress per indicator</h2>",
        "<p>Each chart shows the indicator as it stood once the workbooks of a period and"
        " all earlier ones were in; the dashed line is the target.</p>",
        _charts_html(scorecard, progress, _periods(progress, completeness)),
        "<h2>Workbooks received</h2>",
        _completeness_html(completeness),
        "<h2>Regional stakeholder meetings: phase-1 floor</h2>",
        "<p>Every partner with a policy instrument holds at least one regional stakeholder"
        " meeting in every phase-1 semester (10 × 6 = 60).</p>",
        _floor_html(floor),
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
    completeness: pd.DataFrame,
    floor: pd.DataFrame,
    generated_at: str,
) -> Path:
    """Write the report to ``path`` atomically, so a reader never sees half a page."""
    page = report_html(scorecard, progress, completeness, floor, generated_at)
    return write_atomic(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
