"""The partner's feedback workbook, read back with openpyxl as a partner's Excel would.

The outcome it opens with is the partner-period's status from ``submission_statuses``,
computed here from file versions as the pipeline records them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.core.metadata.rules import RULES
from pipelines.core.metadata.tables import VALIDATION_ISSUES
from pipelines.core.outputs.feedback import ISSUE_HEADERS, write_feedback, write_folder_feedback
from pipelines.core.reference.loader import reference
from pipelines.core.state.completeness import submission_statuses

FORMULA = '=HYPERLINK("http://x","y")'
REF = reference()
AS_OF = dt.date(2026, 12, 3)
WRITTEN_ON = dt.date(2026, 12, 3)
NAME = "P4 " + REF.partner_name("P4")


def issues_frame(*rows: dict[str, object], sha256: str = "ab") -> pd.DataFrame:
    """Open issues as the published ``validation_issues`` table holds them."""
    base = {"partner_id": "P4", "period_id": "RP07", "file": "P4/RP07.xlsx", "sha256": sha256}
    frame = pd.DataFrame([{**base, **row, "is_open": True} for row in rows], dtype=object)
    return frame.reindex(columns=VALIDATION_ISSUES.column_names)


ISSUES = issues_frame(
    {
        "sheet": "Events",
        "sheet_row": 7,
        "sheet_column": "title",
        "record_ref": "EV-007",
        "value": FORMULA,
        "severity": "warning",
        "rule": "event_outside_period",
        "message": "check the date",
    },
    {
        "sheet": "Events",
        "sheet_row": 3,
        "sheet_column": "participants",
        "record_ref": "EV-003",
        "value": "00123",
        "severity": "error",
        "rule": "wrong_type",
        "message": "a whole number",
    },
    {
        "sheet": "Events",
        "sheet_row": 3,
        "sheet_column": "start_date",
        "record_ref": "EV-003",
        "value": "soon",
        "severity": "error",
        "rule": "wrong_type",
        "message": "a date",
    },
    {
        "sheet": "PolicyMeasures",
        "sheet_row": 2,
        "sheet_column": "sf_influenced_eur",
        "record_ref": "M-02",
        "value": "http://example.org/a",
        "severity": "error",
        "rule": "sf_on_non_sf_instrument",
        "message": "must be 0",
    },
)


def version(sha: str, status: str, seen: str, submitted_on: dt.date | None) -> dict:
    """One file version of P4 RP07 (deadline 2020-06-30) as ``submissions`` lists it."""
    return {
        "partner_id": "P4",
        "period_id": "RP07",
        "file": "P4/RP07.xlsx",
        "sha256": sha,
        "status": status,
        "current": False,
        "submitted_on": submitted_on,
        "on_time": None if submitted_on is None else submitted_on <= dt.date(2020, 6, 30),
        "first_seen_at": seen,
        "review_status": "pending",
    }


def status_of(*versions: dict, issues: pd.DataFrame = ISSUES) -> dict:
    """P4 RP07's row of ``submission_statuses`` for these versions (the last accepted in use,
    the last one given the file in the folder now)."""
    rows = [dict(v) | {"in_folder": i == len(versions) - 1} for i, v in enumerate(versions)]
    accepted = [v for v in rows if v["status"] == "accepted"]
    if accepted:
        accepted[-1]["current"] = True
    statuses = submission_statuses(pd.DataFrame(rows), REF, AS_OF, issues)
    return statuses.set_index(["partner_id", "period_id"]).loc[("P4", "RP07")].to_dict() | {
        "partner_id": "P4",
        "period_id": "RP07",
    }


ON_TIME = version("ab", "accepted", "2020-06-01T00:00:00Z", dt.date(2020, 6, 1))
LATE = version("ab", "accepted", "2020-07-22T00:00:00Z", dt.date(2020, 7, 22))
REFUSED = version("cd", "rejected", "2020-07-01T00:00:00Z", None)
WHOLE_FILE = issues_frame(
    {"severity": "error", "rule": "not_a_spreadsheet", "message": "not a workbook"}, sha256="cd"
)


def write(tmp_path: Path, status: dict | None = None, issues: pd.DataFrame = ISSUES) -> Path:
    return write_feedback(
        tmp_path / "P4" / "RP07.xlsx",
        status or status_of(ON_TIME),
        issues,
        WRITTEN_ON,
        REF.partner_name("P4"),
        REF.project.name,
    )


def summary(path: Path) -> dict[str, object]:
    sheet = openpyxl.load_workbook(path)["Summary"]
    return {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row[0]}


def test_every_issue_is_listed_with_its_record_and_the_rule_in_words(tmp_path: Path) -> None:
    sheet = openpyxl.load_workbook(write(tmp_path))["Issues"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == list(ISSUE_HEADERS)
    assert [(r[6], r[1], r[2], r[4]) for r in rows[1:]] == [
        ("error", "Events", 3, "EV-003"),
        ("error", "Events", 3, "EV-003"),
        ("error", "PolicyMeasures", 2, "M-02"),
        ("warning", "Events", 7, "EV-007"),
    ]
    rules = [r[7] for r in rows[1:]]
    assert rules[2] == RULES["sf_on_non_sf_instrument"].description
    assert not set(rules) & set(RULES), "no rule code where the partner needs words"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:I5"


def test_values_from_the_partner_stay_inert_text(tmp_path: Path) -> None:
    sheet = openpyxl.load_workbook(write(tmp_path))["Issues"]
    values = {row[5].value: row[5] for row in sheet.iter_rows(min_row=2) if row[5].value}
    assert set(values) == {FORMULA, "00123", "soon", "http://example.org/a"}
    for cell in values.values():
        assert cell.data_type == "s"
        assert cell.hyperlink is None
    assert sheet["C3"].data_type == "n"  # row numbers are the pipeline's own numbers


def test_the_summary_opens_with_the_outcome_and_carries_date_and_deadline(tmp_path: Path) -> None:
    path = write(tmp_path)
    first = next(openpyxl.load_workbook(path)["Summary"].iter_rows(min_row=3, values_only=True))
    assert first[0] == "Outcome"
    facts = summary(path)
    assert facts["Date"] == "2026-12-03"
    assert facts["Deadline"] == "2020-06-30"
    assert facts["Partner"] == NAME
    assert facts["Period"] == "RP07"
    assert facts["File in use"] == "P4/RP07.xlsx"
    assert (facts["Errors"], facts["Warnings"]) == (3, 1)
    assert "was not used" in facts["An error"]
    assert facts["A warning"].startswith("The row was used as it is")
    assert openpyxl.load_workbook(path).sheetnames == ["Summary", "Issues"]


def test_accepted_with_rows_left_out(tmp_path: Path) -> None:
    said = summary(write(tmp_path))["Outcome"]
    assert said == (
        "Accepted: your workbook P4/RP07.xlsx is in use for RP07 (received on time)."
        " 2 row(s) with errors were left out of the figures until you correct them."
    )


def test_accepted_late_and_clean(tmp_path: Path) -> None:
    warning = ISSUES[ISSUES["severity"] == "warning"]
    said = summary(write(tmp_path, status_of(LATE, issues=warning), warning))["Outcome"]
    assert said == (
        "Accepted: your workbook P4/RP07.xlsx is in use for RP07 (received 22 day(s) after"
        " the deadline). No row has an error."
    )


def test_refused_with_nothing_in_use_says_so(tmp_path: Path) -> None:
    facts = summary(write(tmp_path, status_of(REFUSED, issues=WHOLE_FILE), WHOLE_FILE))
    assert facts["Outcome"] == (
        "Refused: your workbook P4/RP07.xlsx was not accepted, and no workbook of yours is in"
        " use for RP07. Until a corrected workbook is accepted, RP07 counts as not received."
    )
    assert "still the one used" not in " ".join(map(str, facts.values()))
    assert "File in use" not in facts


def test_refused_with_an_earlier_version_in_use(tmp_path: Path) -> None:
    issues = pd.concat([ISSUES, WHOLE_FILE], ignore_index=True)
    facts = summary(write(tmp_path, status_of(ON_TIME, REFUSED, issues=issues), issues))
    assert facts["Outcome"] == (
        "Refused: your latest workbook P4/RP07.xlsx was not accepted. The version accepted"
        " earlier (P4/RP07.xlsx, received on time) is still the one used for RP07. 2 row(s)"
        " with errors were left out of the figures until you correct them."
    )
    assert facts["File refused"] == "P4/RP07.xlsx"


def test_no_issues_gives_a_short_summary_and_an_empty_list(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write(tmp_path, issues=ISSUES.iloc[0:0]))
    cells = [row[0] for row in book["Summary"].iter_rows(values_only=True) if row[0]]
    assert "No issues were found in this workbook." in cells
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
        write(tmp_path, issues=broken)
    assert target.read_bytes() == before  # the previous version is intact
    assert sorted(p.name for p in target.parent.iterdir()) == ["RP07.xlsx"]


def test_files_of_no_period_get_their_own_feedback(tmp_path: Path) -> None:
    issues = issues_frame(
        {"file": "P4/notes.txt", "severity": "error", "rule": "unsupported_file_type"},
        {"file": "P4/RP7.xlsx", "severity": "error", "rule": "unknown_period_file"},
    ).assign(period_id=None)
    path = write_folder_feedback(
        tmp_path / "P4" / "files_not_read.xlsx",
        "P4",
        REF.partner_name("P4"),
        issues,
        WRITTEN_ON,
        REF.project.name,
    )
    facts = summary(path)
    assert facts["Outcome"] == (
        "Not read: 2 file(s) in your folder belong to no reporting period. The sheet 'Issues'"
        " says what to do with each."
    )
    assert (facts["Date"], facts["Partner"], facts["Errors"]) == ("2026-12-03", NAME, 2)
    rows = list(openpyxl.load_workbook(path)["Issues"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[7]) for r in rows] == [
        ("P4/RP7.xlsx", RULES["unknown_period_file"].description),
        ("P4/notes.txt", RULES["unsupported_file_type"].description),
    ]
