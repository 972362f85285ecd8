"""The report's sections about workbooks: who sent what, and what each partner must fix.

A coordinator acts on these sections: chases a partner for a missing workbook, asks for
a corrected one when a workbook was refused, forwards the list of rows to fix. So a
refused workbook never reads as "missing" (the partner did send it, and needs to hear
why it was refused), a period still ahead of its deadline is not "missing" yet, and a
partner-period whose latest upload was refused while an earlier version is in use is
marked, not shown as a plain tick. Every status is the answer of
:func:`pipelines.core.state.completeness.submission_statuses`, shown, never worked out again.
Whatever a cell's tooltip says is also on the page (days late, the reason of a refusal),
and codes always come with the names and dates a partner would recognise.

Each function returns plain values for the report's template (``templates/``), which
escapes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.enumerations import (
    LATE,
    MISSING,
    NOT_EXPECTED,
    NOT_YET_DUE,
    ON_TIME,
    REJECTED,
)
from pipelines.core.reference.model import Reference

_CELL_TEXT = {
    ON_TIME: "✓",
    LATE: "late",
    REJECTED: "refused",
    MISSING: "✗",
    NOT_YET_DUE: "due",
    NOT_EXPECTED: "—",
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
# The coordinator's review (pipelines.core.state.review), in words under the cell's mark.
_REVIEW_NOTE = {"approved": "approved", "sent_back": "sent back", "reopened": "reopened"}
LATEST_REFUSED = "latest_refused"  # css class of a cell whose latest upload was refused
SEE_ISSUES = "see the issues below"

Cell = dict[str, str]


def _text(value: object) -> str:
    return "" if is_missing(value) else str(value)


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


def grid_periods(ref: Reference, periods: Sequence[str]) -> list[dict[str, str]]:
    """The column heads of a partner x period grid: id, dates and deadline, months."""
    heads = []
    for period_id in periods:
        p = ref.period(period_id)
        months = f"{pd.Timestamp(p['start_date']):%m/%Y}–{pd.Timestamp(p['end_date']):%m/%Y}"
        heads.append({"id": period_id, "label": period_label(ref, period_id), "months": months})
    return heads


def grid_rows(
    partners: Sequence[str],
    periods: Sequence[str],
    cell: Callable[[str, str], Cell],
    ref: Reference,
) -> list[dict[str, Any]]:
    """The rows of a partner x period grid; ``cell(partner, period)`` gives each cell."""
    return [
        {
            "partner_id": partner,
            "name": ref.partner_name(partner),
            "cells": [cell(partner, period) for period in periods],
        }
        for partner in partners
    ]


def refused_anchor(partner_id: str, period_id: str) -> str:
    """The id of a refused workbook's row in the report, which its grid cell links to."""
    return f"refused-{partner_id}-{period_id}"


def _cell_title(row: Any) -> str:
    title = f"{row.partner_id} {row.period_id}: {_LABEL[row.status]}"
    if row.status == LATE and not is_missing(row.days_late):
        title += f" ({int(row.days_late)} days late)"
    if row.status in (ON_TIME, LATE):
        title += f", {row.file} in use"
    if row.status == NOT_YET_DUE:
        title += f" (deadline {_date(row.deadline)})"
    if not is_missing(row.rejected_file):
        refused = "the latest upload" if row.latest_rejected else "the workbook"
        title += f"; {refused} {row.rejected_file} was refused: {_text(row.reason) or SEE_ISSUES}"
    if row.review_status in _REVIEW_NOTE:
        title += f"; review: {_REVIEW_NOTE[row.review_status]}"
    return title


def _status_cell(row: Any) -> Cell:
    text, css = _CELL_TEXT[row.status], row.status
    if row.status == LATE and not is_missing(row.days_late):
        text = f"late {int(row.days_late)} d"
    if row.latest_rejected:
        text, css = text + "*", f"{css} {LATEST_REFUSED}"
    refused = not is_missing(row.rejected_file)
    return {
        "css": css,
        "text": text,
        "note": _REVIEW_NOTE.get(row.review_status, ""),
        "title": _cell_title(row),
        "href": "#" + refused_anchor(row.partner_id, row.period_id) if refused else "",
    }


def status_grid(statuses: pd.DataFrame, ref: Reference) -> dict[str, Any]:
    """Counts by status and the partner x period grid of statuses."""
    counts = statuses["status"].value_counts()
    by_key = {(r.partner_id, r.period_id): r for r in statuses.itertuples(index=False)}
    partners = list(dict.fromkeys(statuses["partner_id"]))
    periods = list(dict.fromkeys(statuses["period_id"]))
    return {
        "expected": int((statuses["status"] != NOT_EXPECTED).sum()),
        "counts": [(int(counts.get(s, 0)), label) for s, label in _COUNTED.items()],
        "flagged": int(statuses["latest_rejected"].sum()),
        "periods": grid_periods(ref, periods),
        "rows": grid_rows(partners, periods, lambda a, b: _status_cell(by_key[a, b]), ref),
    }


def late_rows(statuses: pd.DataFrame, ref: Reference) -> list[dict[str, str]]:
    """Every workbook in use that came after its deadline, with the days late."""
    late = statuses[statuses["status"] == LATE]
    return [
        {
            "partner": partner_label(ref, r.partner_id),
            "period": r.period_id,  # the deadline has its own column
            "deadline": _date(r.deadline),
            "submitted_on": _date(r.submitted_on),
            "days_late": _text(r.days_late),
        }
        for r in late.itertuples(index=False)
    ]


def refused_rows(statuses: pd.DataFrame, ref: Reference) -> list[dict[str, str]]:
    """Every partner-period whose latest workbook was refused, with the reason."""
    refused = statuses[statuses["rejected_file"].map(lambda v: not is_missing(v))]
    rows = []
    for r in refused.itertuples(index=False):
        if r.latest_rejected:
            effect = f"earlier version {_text(r.file)} still in use"
        elif r.status == NOT_EXPECTED:
            effect = "not expected from this partner for this period"
        else:
            effect = "nothing accepted: counts as not received"
        rows.append(
            {
                "anchor": refused_anchor(r.partner_id, r.period_id),
                "partner": partner_label(ref, r.partner_id),
                "period": period_label(ref, r.period_id),
                "file": _text(r.rejected_file),
                "reason": _text(r.reason) or SEE_ISSUES,
                "effect": effect,
            }
        )
    return rows


def _issue_row(issue: dict[str, Any]) -> dict[str, str]:
    """An issue as the report lists it (published or in-pipeline column names)."""
    line = issue.get("sheet_row", issue.get("row"))
    return {
        "severity": _text(issue["severity"]),
        "file": _text(issue["file"]),
        "sheet": _text(issue["sheet"]),
        "row": "" if is_missing(line) else str(int(line)),
        "column": _text(issue.get("sheet_column", issue.get("column"))),
        "record_ref": _text(issue.get("record_ref")),
        "value": _text(issue["value"]),
        "message": _text(issue["message"]),
    }


def _todo(status: dict[str, Any], ref: Reference) -> str | None:
    """What a partner must do about one partner-period's workbook, if anything."""
    if not is_missing(status["rejected_file"]):
        return (
            f"{period_label(ref, status['period_id'])}: {status['rejected_file']} was refused:"
            f" {_text(status['reason']) or SEE_ISSUES}. Send a corrected workbook."
        )
    if status["status"] == MISSING:
        return f"{period_label(ref, status['period_id'])}: no workbook received."
    return None


def fix_sections(
    statuses: pd.DataFrame, issues: pd.DataFrame, ref: Reference
) -> list[dict[str, Any]]:
    """Per partner with something to do: refused and missing workbooks, and open issues.

    Issues with ``is_open`` false (of versions neither in use nor the latest) are left out.
    """
    # Records grouped once: a frame filter per partner cost more than the whole section.
    todo_of: dict[str, list[str]] = {}
    for status in statuses.to_dict("records"):
        if (todo := _todo(status, ref)) is not None:
            todo_of.setdefault(status["partner_id"], []).append(todo)
    issues_of: dict[str, list[dict[str, Any]]] = {}
    for issue in issues.to_dict("records"):
        if is_missing(issue.get("is_open")) or bool(issue["is_open"]):
            issues_of.setdefault(issue["partner_id"], []).append(issue)
    sections = []
    for partner_id in ref.partner_ids:
        todo, open_issues = todo_of.get(partner_id, []), issues_of.get(partner_id, [])
        if not todo and not open_issues:
            continue
        errors = sum(issue["severity"] == "error" for issue in open_issues)
        sections.append(
            {
                "partner_id": partner_id,
                "partner": partner_label(ref, partner_id),
                "todo": todo,
                "errors": errors,
                "warnings": len(open_issues) - errors,
                "issues": [_issue_row(issue) for issue in open_issues],
            }
        )
    return sections
