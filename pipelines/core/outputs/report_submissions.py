"""The report's sections about workbooks: who sent what, and what each partner must fix.

A coordinator acts on these pages: chases a partner for a missing workbook, asks for a
corrected one when a workbook was refused, forwards the list of rows to fix. So a
refused workbook never reads as "missing" (the partner did send it, and needs to hear
why it was refused), a period still ahead of its deadline is not "missing" yet, and a
partner-period whose latest upload was refused while an earlier version is in use is
marked, not shown as a plain tick. Codes always come with the names and dates a
partner would recognise.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence

import pandas as pd

from pipelines.core.intake.parsing import is_missing
from pipelines.core.reference.loader import Reference
from pipelines.core.state.completeness import (
    LATE,
    MISSING,
    NOT_EXPECTED,
    NOT_YET_DUE,
    ON_TIME,
    REJECTED,
)

_CELL_TEXT = {
    ON_TIME: "✓",
    LATE: "late",
    REJECTED: "refused",
    MISSING: "✗",
    NOT_YET_DUE: "due",
    NOT_EXPECTED: "",
}
_LABEL = {
    ON_TIME: "received on time",
    LATE: "received after the deadline",
    REJECTED: "workbook refused, none accepted",
    MISSING: "missing: nothing received by the deadline",
    NOT_YET_DUE: "not yet due",
    NOT_EXPECTED: "not expected (no part in this phase)",
}
_COUNTED = {
    ON_TIME: "received on time",
    LATE: "received late",
    REJECTED: "refused with nothing accepted",
    MISSING: "missing",
    NOT_YET_DUE: "not yet due",
}
# The coordinator's review (pipelines.core.state.review), shown when there is a decision to show.
_REVIEW_MARK = {"approved": " 🔒", "sent_back": " ↩", "reopened": " 🔓"}
LATEST_REFUSED = "latest_refused"  # css class of a cell whose latest upload was refused

Cell = Callable[[str, str], tuple[str, str, str]]


def _text(value: object) -> str:
    return "" if is_missing(value) else html.escape(str(value))


def _date(value: object) -> str:
    if isinstance(value, dt.date):  # the reference data's dates (a datetime is one too)
        return value.strftime("%Y-%m-%d")
    return "" if is_missing(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def partner_label(ref: Reference, partner_id: str) -> str:
    """``P7 Region of Southern Denmark``: the code with the partner's current name."""
    return f"{partner_id} {ref.partner_name(partner_id)}"


def period_label(ref: Reference, period_id: str) -> str:
    """``RP07 (2019-04-01 – 2020-03-31, due 2020-06-30)``."""
    period = ref.period(period_id)
    return (
        f"{period_id} ({_date(period['start_date'])} – {_date(period['end_date'])},"
        f" due {_date(period['deadline'])})"
    )


def grid_html(
    partners: Sequence[str], periods: Sequence[str], cell: Cell, ref: Reference, grid_id: str
) -> str:
    """A partner x period table; ``cell(partner, period)`` gives (css class, text, title).

    Period headers show the dates (as a tooltip too); partner headers the names.
    """
    head = "<tr><th>Partner</th>"
    for period_id in periods:
        p = ref.period(period_id)
        head += (
            f"<th title='{html.escape(period_label(ref, period_id))}'>{html.escape(period_id)}"
            f"<br><small>{pd.Timestamp(p['start_date']):%m/%Y}–"
            f"{pd.Timestamp(p['end_date']):%m/%Y}</small></th>"
        )
    rows = []
    for partner in partners:
        cells = []
        for period in periods:
            css, text, title = cell(partner, period)
            cells.append(f"<td class='{css}' title='{html.escape(title)}'>{html.escape(text)}</td>")
        name = html.escape(ref.partner_name(partner))
        rows.append(
            f"<tr><th class='partner' title='{html.escape(partner)} {name}'>"
            f"{html.escape(partner)} <small>{name}</small></th>{''.join(cells)}</tr>"
        )
    return f"<table class='grid' id='{grid_id}'>{head}</tr>{''.join(rows)}</table>"


def _cell_title(row: pd.Series, ref: Reference) -> str:
    title = f"{row.partner_id} {row.period_id}: {_LABEL[row.status]}"
    if row.status == LATE and not is_missing(row.days_late):
        title += f" ({int(row.days_late)} days late)"
    if row.status in (ON_TIME, LATE):
        title += f", {row.file} in use"
    if row.status == NOT_YET_DUE:
        title += f" (deadline {_date(row.deadline)})"
    if not is_missing(row.rejected_file):
        refused = "the latest upload" if row.latest_rejected else "the workbook"
        title += f"; {refused} {row.rejected_file} was refused: {row.reason or 'see issues'}"
    if row.review_status in _REVIEW_MARK:
        title += f"; review: {row.review_status.replace('_', ' ')}"
    return title


def status_grid_html(statuses: pd.DataFrame, ref: Reference) -> str:
    """Counts by status, the legend, and the partner x period grid of statuses."""
    counts = statuses["status"].value_counts()
    expected = int((statuses["status"] != NOT_EXPECTED).sum())
    flagged = int(statuses["latest_rejected"].sum())
    parts = [f"{int(counts.get(status, 0))} {label}" for status, label in _COUNTED.items()]
    summary = (
        f"<p class='status-summary'>Of {expected} expected workbooks: {', '.join(parts)}."
        + (f" {flagged} received with a later upload refused (marked *)." if flagged else "")
        + "</p><p class='legend'>✓ received on time; <em>late</em> received after the deadline;"
        " <em>refused</em> a workbook came but was refused (see below); ✗ missing after the"
        " deadline; <em>due</em> deadline not passed yet; grey: not expected. * the latest"
        " upload was refused and the earlier accepted version is still in use. Review: 🔒"
        " approved (locked), ↩ sent back, 🔓 reopened. Hover a cell for details.</p>"
    )
    by_key = {(r.partner_id, r.period_id): r for r in statuses.itertuples(index=False)}

    def cell(partner: str, period: str) -> tuple[str, str, str]:
        row = by_key[partner, period]
        text = _CELL_TEXT[row.status]
        css = row.status
        if row.latest_rejected:
            text, css = text + "*", f"{css} {LATEST_REFUSED}"
        return css, text + _REVIEW_MARK.get(row.review_status, ""), _cell_title(row, ref)

    partners = list(dict.fromkeys(statuses["partner_id"]))
    periods = list(dict.fromkeys(statuses["period_id"]))
    return summary + grid_html(partners, periods, cell, ref, "status-grid")


def refused_html(statuses: pd.DataFrame, ref: Reference) -> str:
    """Every partner-period whose latest workbook was refused, with the reason."""
    refused = statuses[statuses["rejected_file"].map(lambda v: not is_missing(v))]
    if refused.empty:
        return "<p>No workbook is refused at present.</p>"
    rows = []
    for r in refused.itertuples(index=False):
        if r.latest_rejected:
            effect = f"earlier version {_text(r.file)} still in use"
        elif r.status == NOT_EXPECTED:
            effect = "not expected from this partner for this period"
        else:
            effect = "nothing accepted: counts as not received"
        rows.append(
            f"<tr class='refused'><td>{_text(partner_label(ref, r.partner_id))}</td>"
            f"<td>{_text(period_label(ref, r.period_id))}</td><td>{_text(r.rejected_file)}</td>"
            f"<td>{_text(r.reason) or 'see the issues below'}</td><td>{effect}</td></tr>"
        )
    head = "<tr><th>Partner</th><th>Period</th><th>File</th><th>Reason</th><th>Effect</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _column(issues: pd.DataFrame, *names: str) -> pd.Series:
    """The first of ``names`` the issues table has (empty when none)."""
    name = next((n for n in names if n in issues.columns), None)
    return issues[name] if name else pd.Series([None] * len(issues), index=issues.index)


def _issue_rows(issues: pd.DataFrame) -> str:
    rows = []
    sheet_row = _column(issues, "sheet_row", "row")
    sheet_column = _column(issues, "sheet_column", "column")
    for r, line, column in zip(
        issues.itertuples(index=False), sheet_row.tolist(), sheet_column.tolist(), strict=True
    ):
        rows.append(
            f"<tr class='{_text(r.severity)}'><td>{_text(r.file)}</td><td>{_text(r.sheet)}</td>"
            f"<td class='num'>{'' if is_missing(line) else int(line)}</td>"
            f"<td>{_text(column)}</td><td>{_text(r.value)}</td>"
            f"<td>{_text(r.severity)}</td><td>{_text(r.message)}</td></tr>"
        )
    return "".join(rows)


def what_to_fix_html(statuses: pd.DataFrame, issues: pd.DataFrame, ref: Reference) -> str:
    """Per partner: refused workbooks with the reason, missing ones, and open issues."""
    sections = []
    # Grouped once: a filter per partner grew with partners x rows.
    statuses_of = dict(list(statuses.groupby("partner_id", sort=False)))
    issues_of = dict(list(issues.groupby("partner_id", sort=False))) if not issues.empty else {}
    for partner_id in ref.partner_ids:
        mine = statuses_of.get(partner_id, statuses.iloc[0:0])
        todo = []
        for r in mine.itertuples(index=False):
            if not is_missing(r.rejected_file):
                todo.append(
                    f"<li>{_text(period_label(ref, r.period_id))}: {_text(r.rejected_file)} was"
                    f" refused: {_text(r.reason) or 'see the issues below'}. Send a corrected"
                    " workbook.</li>"
                )
            elif r.status == MISSING:
                todo.append(
                    f"<li>{_text(period_label(ref, r.period_id))}: no workbook received.</li>"
                )
        open_issues = issues_of.get(partner_id, issues.iloc[0:0])
        if "is_open" in open_issues.columns:
            # closed: issues of versions neither in use nor the latest refused one
            open_issues = open_issues[[is_missing(v) or bool(v) for v in open_issues["is_open"]]]
        if not todo and open_issues.empty:
            continue
        body = f"<ul>{''.join(todo)}</ul>" if todo else ""
        if not open_issues.empty:
            errors = int((open_issues["severity"] == "error").sum())
            body += (
                f"<p>{errors} error(s) (rows left out until corrected) and"
                f" {len(open_issues) - errors} warning(s) (rows kept; please check):</p>"
                "<table class='issues'><tr><th>File</th><th>Sheet</th><th>Row</th>"
                "<th>Column</th><th>Value</th><th>Severity</th><th>Message</th></tr>"
                f"{_issue_rows(open_issues)}</table>"
            )
        sections.append(
            f"<section class='partner-fix' id='fix-{html.escape(partner_id)}'>"
            f"<h3>{_text(partner_label(ref, partner_id))}</h3>{body}</section>"
        )
    if not sections:
        return "<p>Nothing to fix: every workbook received is clean.</p>"
    return "".join(sections)
