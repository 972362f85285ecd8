"""The feedback workbook a partner receives for a submission with issues.

One xlsx per submission with issues or sent back by the coordinator: a Summary sheet
(the coordinator's send-back note first, then who, which period and file, how many
errors and warnings, and what each means) and an Issues sheet listing every issue with
the sheet, row and column of the partner's workbook it is about.

Values quoted in the issues come from the partner's own file and are hostile: every
text is written as a string cell and the workbook is created with formulas, URLs and
numbers never inferred from strings, so '=HYPERLINK(...)' stays inert text.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from pipelines.core.outputs.parquet import write_atomic

if TYPE_CHECKING:
    from pipelines.core.state.review import Decision

ISSUE_COLUMNS = ("sheet", "row", "column", "value", "severity", "rule", "message")
_WIDTHS = (16, 7, 26, 32, 10, 28, 90)
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
        " the whole workbook: it was refused, and your last accepted workbook for this"
        " period is still the one used.",
    ),
    (
        "A warning",
        "The row was used as it is. Please check it, and correct it if it is wrong.",
    ),
    (
        "Where",
        "The sheet 'Issues' lists every issue with the sheet, row and column of your"
        " workbook it is about; use the filter buttons in its header to narrow it down.",
    ),
)


def write_feedback(
    path: Path,
    partner_id: str,
    period_id: str,
    file: str,
    issues: pd.DataFrame,
    sent_back: Decision | None = None,
) -> Path:
    """Write the feedback workbook for one submission, atomically, and return its path.

    ``sent_back`` is the coordinator's send-back decision while it stands: its note
    opens the first sheet, since it is what the partner must act on first.
    """
    ordered = _ordered(issues)
    return write_atomic(
        path, lambda tmp: _write(tmp, partner_id, period_id, file, ordered, sent_back)
    )


def _ordered(issues: pd.DataFrame) -> pd.DataFrame:
    """The issue columns only, errors first, then by sheet and row (workbook-level first)."""
    frame = issues.reindex(columns=list(ISSUE_COLUMNS)).reset_index(drop=True)
    keys = pd.DataFrame(
        {
            "severity": frame["severity"].map(_SEVERITY_ORDER).fillna(len(_SEVERITY_ORDER)),
            "sheet": frame["sheet"].map(lambda v: "" if _missing(v) else str(v)),
            "row": pd.to_numeric(frame["row"], errors="coerce").fillna(0),
        }
    )
    order = keys.sort_values(["severity", "sheet", "row"], kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _text(value: Any) -> str | None:
    """A value as the text shown to the partner, cut to what one cell can hold."""
    return None if _missing(value) else str(value)[:_MAX_CELL_CHARS]


def _write(
    tmp: Path,
    partner_id: str,
    period_id: str,
    file: str,
    issues: pd.DataFrame,
    sent_back: Decision | None,
) -> None:
    with xlsxwriter.Workbook(str(tmp), _SAFE_OPTIONS) as workbook:
        formats = {
            "title": workbook.add_format({"bold": True, "font_size": 14}),
            "label": workbook.add_format({"bold": True, "valign": "top"}),
            "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
            "header": workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
            "alert": workbook.add_format({"bold": True, "font_color": "#C00000", "valign": "top"}),
        }
        summary = workbook.add_worksheet("Summary")
        _write_summary(summary, formats, partner_id, period_id, file, issues, sent_back)
        _write_issues(workbook.add_worksheet("Issues"), formats, issues)


def _write_summary(
    sheet: Worksheet,
    formats: dict[str, Any],
    partner_id: str,
    period_id: str,
    file: str,
    issues: pd.DataFrame,
    sent_back: Decision | None,
) -> None:
    severity = issues["severity"]
    facts = (
        ("Partner", partner_id),
        ("Period", period_id),
        ("File", file),
        ("Errors", int((severity == "error").sum())),
        ("Warnings", int((severity == "warning").sum())),
    )
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 100)
    sheet.write_string(0, 0, "CLUSTERIX 2.0 - feedback on your workbook", formats["title"])
    row = 2
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
    if issues.empty:
        sheet.write_string(row, 0, "No issues were found in this workbook.")
        return
    for label, meaning in _MEANING:
        sheet.write_string(row, 0, label, formats["label"])
        sheet.write_string(row, 1, meaning, formats["wrap"])
        row += 1


def _write_issues(sheet: Worksheet, formats: dict[str, Any], issues: pd.DataFrame) -> None:
    for column, (name, width) in enumerate(zip(ISSUE_COLUMNS, _WIDTHS, strict=True)):
        sheet.write_string(0, column, name, formats["header"])
        sheet.set_column(column, column, width, formats["wrap"] if name == "message" else None)
    for row, record in enumerate(issues.itertuples(index=False), start=1):
        for column, value in enumerate(record):
            if ISSUE_COLUMNS[column] == "row":
                number = pd.to_numeric(value, errors="coerce")
                if not _missing(number):
                    sheet.write_number(row, column, int(number))
            elif (text := _text(value)) is not None:
                sheet.write_string(row, column, text)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(issues), 1), len(ISSUE_COLUMNS) - 1)
