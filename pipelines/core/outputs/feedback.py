"""The feedback workbook a partner receives for a partner-period with open issues.

One xlsx per partner-period with open issues or sent back by the coordinator. Its
Summary sheet opens with the outcome in words (refused, with or without an earlier
version still in use; accepted, with or without rows left out), then the
coordinator's send-back note, the date the feedback was written, the period's
deadline, the file and what errors and warnings mean. Its Issues sheet lists every
open issue with the file, sheet, row, column and record ref it is about, and the rule
in plain words. The outcome is the partner-period's status from
:func:`pipelines.core.state.completeness.submission_statuses`, never worked out here.

Values quoted in the issues come from the partner's own file and are hostile: every
text is written as a string cell and the workbook is created with formulas, URLs and
numbers never inferred from strings, so '=HYPERLINK(...)' stays inert text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.enumerations import LATE, NOT_EXPECTED, ON_TIME, REJECTED
from pipelines.core.metadata.rules import RULES
from pipelines.platform.files import write_atomic

if TYPE_CHECKING:
    from pipelines.core.state.review import Decision

# (column of the validation_issues table, header the partner reads, width)
_ISSUE_SHEET = (
    ("file", "File", 16),
    ("sheet", "Sheet", 16),
    ("sheet_row", "Row", 7),
    ("sheet_column", "Column", 24),
    ("record_ref", "Record ref", 14),
    ("value", "Value", 28),
    ("severity", "Severity", 10),
    ("rule", "Rule", 40),
    ("message", "What to do", 90),
)
ISSUE_HEADERS = tuple(header for _, header, _ in _ISSUE_SHEET)
_SEVERITY_ORDER = {"error": 0, "warning": 1}
_MAX_CELL_CHARS = 32_767  # Excel's limit for one cell
_SAFE_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
_MEANING = (
    (
        "An error",
        "A row with an error was not used: it is kept aside until you correct it and put"
        " the corrected workbook in your folder again. An error with no row number concerns"
        " the whole workbook: the outcome above says what was done with it.",
    ),
    (
        "A warning",
        "The row was used as it is. Please check it, and correct it if it is wrong.",
    ),
    (
        "Where",
        "The sheet 'Issues' lists every issue with the file, sheet, row, column and record"
        " ref of your workbook it is about; use the filter buttons in its header to narrow"
        " it down.",
    ),
)


def _text(value: Any) -> str | None:
    """A value as the text shown to the partner, cut to what one cell can hold."""
    return None if is_missing(value) else str(value)[:_MAX_CELL_CHARS]


def _day(value: Any) -> str:
    return "" if is_missing(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


Issue = Mapping[str, Any]  # one row of the validation_issues table


def _row(issue: Issue) -> int | None:
    """The sheet row an issue is about (None for the whole workbook)."""
    row = issue.get("sheet_row")
    return None if is_missing(row) else int(row)


def _left_out_rows(status: Mapping[str, Any], issues: Sequence[Issue]) -> int:
    """Rows of the version in use that an error kept out of the tables."""
    return len(
        {
            (issue["sheet"], _row(issue))
            for issue in issues
            if issue["severity"] == "error"
            and issue["sha256"] == status["sha256"]
            and _row(issue) is not None
        }
    )


def _received(status: Mapping[str, Any]) -> str:
    if status["status"] == ON_TIME:
        return "received on time"
    if is_missing(status["days_late"]):
        return "received after the deadline"
    return f"received {int(status['days_late'])} day(s) after the deadline"


def outcome(status: Mapping[str, Any], issues: Sequence[Issue]) -> str:
    """What became of the partner's workbook, in words, from its partner-period status.

    ``status`` is one row of ``submission_statuses``; ``issues`` the partner-period's
    open issues (``validation_issues`` columns).
    """
    period = status["period_id"]
    if status["status"] == NOT_EXPECTED:
        return (
            f"Refused: {status['rejected_file']} was not accepted, since no workbook is"
            f" expected from you for {period}."
        )
    if status["status"] == REJECTED:
        return (
            f"Refused: your workbook {status['rejected_file']} was not accepted, and no"
            f" workbook of yours is in use for {period}. Until a corrected workbook is"
            f" accepted, {period} counts as not received."
        )
    if status["status"] not in (ON_TIME, LATE):
        return f"No workbook of yours is in use for {period}."
    received = _received(status)
    if status["latest_rejected"]:
        said = (
            f"Refused: your latest workbook {status['rejected_file']} was not accepted. The"
            f" version accepted earlier ({status['file']}, {received}) is still the one"
            f" used for {period}."
        )
    else:
        said = f"Accepted: your workbook {status['file']} is in use for {period} ({received})."
    left_out = _left_out_rows(status, issues)
    if left_out:
        said += (
            f" {left_out} row(s) with errors were left out of the figures until you correct them."
        )
    elif not status["latest_rejected"]:
        said += " No row has an error."
    return said


def write_feedback(
    path: Path,
    status: Mapping[str, Any],
    issues: pd.DataFrame,
    written_on: dt.date,
    partner_name: str,
    project: str,
    sent_back: Decision | None = None,
) -> Path:
    """Write the feedback workbook for one partner-period, atomically; return its path.

    ``status`` is the partner-period's row of ``submission_statuses``; ``issues`` its
    open issues as in the ``validation_issues`` table; ``written_on`` the date the
    partner reads as the feedback's date; ``project`` the project's name, which the
    title says. ``sent_back`` is the coordinator's send-back decision while it stands:
    its note comes right after the outcome, since it is what the partner must act on
    first.
    """
    ordered = _ordered(issues)
    said = outcome(status, ordered)
    facts = _facts(status, ordered, written_on, partner_name)
    return write_atomic(path, lambda tmp: _write(tmp, project, said, facts, ordered, sent_back))


def write_folder_feedback(
    path: Path,
    partner_id: str,
    partner_name: str,
    issues: pd.DataFrame,
    written_on: dt.date,
    project: str,
) -> Path:
    """Write the feedback on files of a partner's folder that belong to no period.

    ``issues`` are the open issues of those files (partner set, no period): they were
    not read, and each issue's message says what to do with its file.
    """
    ordered = _ordered(issues)
    files = len({issue["file"] for issue in ordered})
    said = (
        f"Not read: {files} file(s) in your folder belong to no reporting period. The sheet"
        " 'Issues' says what to do with each."
    )
    facts: list[tuple[str, str | int]] = [
        ("Date", written_on.strftime("%Y-%m-%d")),
        ("Partner", f"{partner_id} {partner_name}"),
        ("Errors", sum(issue["severity"] == "error" for issue in ordered)),
        ("Warnings", sum(issue["severity"] == "warning" for issue in ordered)),
    ]
    return write_atomic(path, lambda tmp: _write(tmp, project, said, facts, ordered, None))


def _ordered(issues: pd.DataFrame) -> list[Issue]:
    """The issues as records: errors first, then by file, sheet and row (workbook-level
    issues first)."""

    def key(issue: Issue) -> tuple[int, str, str, int]:
        return (
            _SEVERITY_ORDER.get(issue["severity"], len(_SEVERITY_ORDER)),
            _text(issue["file"]) or "",
            _text(issue["sheet"]) or "",
            _row(issue) or 0,
        )

    return sorted(issues.to_dict("records"), key=key)


def _facts(
    status: Mapping[str, Any], issues: Sequence[Issue], written_on: dt.date, partner_name: str
) -> list[tuple[str, str | int]]:
    errors = sum(issue["severity"] == "error" for issue in issues)
    facts: list[tuple[str, str | int]] = [
        ("Date", written_on.strftime("%Y-%m-%d")),
        ("Partner", f"{status['partner_id']} {partner_name}"),
        ("Period", str(status["period_id"])),
        ("Deadline", _day(status["deadline"])),
    ]
    if not is_missing(status["file"]):
        in_use = status["status"] in (ON_TIME, LATE)
        facts.append(("File in use" if in_use else "File", status["file"]))
    if not is_missing(status["submitted_on"]):
        facts.append(("Submitted on", _day(status["submitted_on"])))
    if not is_missing(status["rejected_file"]) and status["latest_rejected"]:
        facts.append(("File refused", status["rejected_file"]))
    facts += [("Errors", errors), ("Warnings", len(issues) - errors)]
    return facts


def _write(
    tmp: Path,
    project: str,
    said: str,
    facts: list[tuple[str, str | int]],
    issues: Sequence[Issue],
    sent_back: Decision | None,
) -> None:
    with xlsxwriter.Workbook(str(tmp), _SAFE_OPTIONS) as workbook:
        formats = {
            "title": workbook.add_format({"bold": True, "font_size": 14}),
            "label": workbook.add_format({"bold": True, "valign": "top"}),
            "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
            "outcome": workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"}),
            "header": workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
            "alert": workbook.add_format({"bold": True, "font_color": "#C00000", "valign": "top"}),
        }
        summary = workbook.add_worksheet("Summary")
        title = f"{project} - feedback on your workbook"
        _write_summary(summary, formats, title, said, facts, issues, sent_back)
        _write_issues(workbook.add_worksheet("Issues"), formats, issues)


def _write_summary(
    sheet: Worksheet,
    formats: dict[str, Any],
    title: str,
    said: str,
    facts: list[tuple[str, str | int]],
    issues: Sequence[Issue],
    sent_back: Decision | None,
) -> None:
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 100)
    sheet.write_string(0, 0, title, formats["title"])
    sheet.write_string(2, 0, "Outcome", formats["label"])
    sheet.write_string(2, 1, said, formats["outcome"])
    row = 4
    if sent_back is not None:
        sheet.write_string(row, 0, "Sent back", formats["alert"])
        sheet.write_string(row, 1, _text(sent_back.note) or "", formats["wrap"])
        sheet.write_string(
            row + 1,
            1,
            f"The coordinator ({_text(sent_back.decided_by)}, {sent_back.decided_at[:10]}) sent"
            " this workbook back: correct it and put it in your folder again.",
            formats["wrap"],
        )
        row += 3
    for label, value in facts:
        sheet.write_string(row, 0, label, formats["label"])
        if isinstance(value, int):
            sheet.write_number(row, 1, value)
        else:
            sheet.write_string(row, 1, _text(value) or "")
        row += 1
    row += 1
    if not issues:
        sheet.write_string(row, 0, "No issues were found in this workbook.")
        return
    for label, meaning in _MEANING:
        sheet.write_string(row, 0, label, formats["label"])
        sheet.write_string(row, 1, meaning, formats["wrap"])
        row += 1


def _rule_in_words(name: Any) -> str | None:
    """The rule as the partner reads it: its plain-words description."""
    rule = RULES.get(str(name)) if not is_missing(name) else None
    return rule.description if rule is not None else _text(name)


def _write_issues(sheet: Worksheet, formats: dict[str, Any], issues: Sequence[Issue]) -> None:
    for column, (name, header, width) in enumerate(_ISSUE_SHEET):
        sheet.write_string(0, column, header, formats["header"])
        wrap = formats["wrap"] if name in ("rule", "message") else None
        sheet.set_column(column, column, width, wrap)
    for row, record in enumerate(issues, start=1):
        for column, (name, _, _) in enumerate(_ISSUE_SHEET):
            value = record.get(name)
            if name == "sheet_row":
                if (number := _row(record)) is not None:
                    sheet.write_number(row, column, number)
                continue
            text = _rule_in_words(value) if name == "rule" else _text(value)
            if text is not None:
                sheet.write_string(row, column, text)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(issues), 1), len(_ISSUE_SHEET) - 1)
