"""The partner's feedback workbook, read back with openpyxl as a partner's Excel would."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.core.metadata.tables import ISSUE_COLUMNS as PIPELINE_ISSUE_COLUMNS
from pipelines.core.outputs.feedback import ISSUE_COLUMNS, write_feedback

FORMULA = '=HYPERLINK("http://x","y")'


def issues_frame(*rows: dict[str, object]) -> pd.DataFrame:
    """Issues as the pipeline holds them (before publication renames row and column)."""
    base = {"partner_id": "P4", "period_id": "RP07", "file": "P4/RP07.xlsx", "sha256": "ab"}
    frame = pd.DataFrame([{**base, **row} for row in rows], dtype=object)
    return frame.reindex(columns=list(PIPELINE_ISSUE_COLUMNS))


ISSUES = issues_frame(
    {
        "sheet": "Events",
        "row": 7,
        "column": "title",
        "value": FORMULA,
        "severity": "warning",
        "rule": "unknown_column",
        "message": "check it",
    },
    {
        "sheet": "Events",
        "row": 3,
        "column": "participants",
        "value": "00123",
        "severity": "error",
        "rule": "wrong_type",
        "message": "a whole number",
    },
    {"severity": "error", "rule": "cover_partner_mismatch", "message": "wrong folder"},
    {
        "sheet": "GoodPractices",
        "row": 2,
        "column": "url",
        "value": "http://example.org/a",
        "severity": "error",
        "rule": "wrong_type",
        "message": "m",
    },
)


def write(tmp_path: Path, issues: pd.DataFrame = ISSUES) -> Path:
    return write_feedback(tmp_path / "P4" / "RP07.xlsx", "P4", "RP07", "P4/RP07.xlsx", issues)


def test_every_issue_is_listed_errors_first_then_by_sheet_and_row(tmp_path: Path) -> None:
    sheet = openpyxl.load_workbook(write(tmp_path))["Issues"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == list(ISSUE_COLUMNS)
    assert [(r[4], r[0], r[1], r[5]) for r in rows[1:]] == [
        ("error", None, None, "cover_partner_mismatch"),  # the whole workbook first
        ("error", "Events", 3, "wrong_type"),
        ("error", "GoodPractices", 2, "wrong_type"),
        ("warning", "Events", 7, "unknown_column"),
    ]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G5"


def test_values_from_the_partner_stay_inert_text(tmp_path: Path) -> None:
    sheet = openpyxl.load_workbook(write(tmp_path))["Issues"]
    values = {row[3].value: row[3] for row in sheet.iter_rows(min_row=2) if row[3].value}
    assert set(values) == {FORMULA, "00123", "http://example.org/a"}
    for cell in values.values():
        assert cell.data_type == "s"
        assert cell.hyperlink is None
    assert sheet["B3"].data_type == "n"  # row numbers are the pipeline's own numbers


def test_the_summary_says_who_what_and_what_it_means(tmp_path: Path) -> None:
    sheet = openpyxl.load_workbook(write(tmp_path))["Summary"]
    facts = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row[0]}
    assert facts["Partner"] == "P4"
    assert facts["Period"] == "RP07"
    assert facts["File"] == "P4/RP07.xlsx"
    assert (facts["Errors"], facts["Warnings"]) == (3, 1)
    assert "was not used" in facts["An error"]
    assert "the whole workbook: it was refused" in facts["An error"]
    assert facts["A warning"].startswith("The row was used as it is")
    assert openpyxl.load_workbook(tmp_path / "P4" / "RP07.xlsx").sheetnames == [
        "Summary",
        "Issues",
    ]


def test_no_issues_gives_a_short_summary_and_an_empty_list(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write(tmp_path, ISSUES.iloc[0:0]))
    summary = [row[0] for row in book["Summary"].iter_rows(values_only=True) if row[0]]
    assert "No issues were found in this workbook." in summary
    assert book["Issues"].max_row == 1


def test_the_file_is_written_atomically(tmp_path: Path) -> None:
    target = write(tmp_path)
    before = target.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == ["RP07.xlsx"]

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("cannot be shown")

    broken = ISSUES.copy()
    broken.loc[0, "message"] = Unprintable()
    with pytest.raises(RuntimeError, match="cannot be shown"):
        write(tmp_path, broken)
    assert target.read_bytes() == before  # the previous version is intact
    assert sorted(p.name for p in target.parent.iterdir()) == ["RP07.xlsx"]
