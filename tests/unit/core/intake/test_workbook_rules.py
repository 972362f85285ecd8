"""Workbook-level rules (SPEC section 4): each rejects the whole file with its own rule."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook

from pipelines.core.intake.discovery import discover
from pipelines.core.intake.ingest import ingest, refresh
from pipelines.core.outputs.template import write_template
from pipelines.core.reference.loader import reference
from pipelines.core.state.versions import SubmissionState
from tests.helpers.workbooks import GOOD_ROWS, make_workbook


def _only_outcome(raw, tmp_path):
    (outcome,) = ingest(discover(raw, reference()), reference(), tmp_path / "archive")
    return outcome


@pytest.mark.parametrize(
    ("cover", "rule", "words"),
    [
        ({"partner_id": "P3"}, "partner_mismatch", "folder of P4"),
        ({"partner_id": "P99"}, "unknown_cover_partner", "'P99' is not a project partner"),
        (
            {"partner_id": "\u0420" + "4"},  # Cyrillic Er, which looks like P
            "character_outside_alphabet",
            "partner_id 'Р4' has the character 'Р' (CYRILLIC CAPITAL LETTER ER) at position 1",
        ),
        ({"period_id": "RP06"}, "period_mismatch", "file is named RP07"),
        ({"period_id": "RP99"}, "unknown_cover_period", "'RP99' is not a reporting period"),
        ({"submitted_on": "15.04.2020"}, "submitted_on_not_a_date", "got '15.04.2020'"),
        ({"submitted_on": None}, "submitted_on_not_a_date", "got 'empty'"),
        ({"template_version": 2}, "unsupported_template_version", "clusterix template P4 RP07"),
    ],
)
def test_cover_rules(tmp_path, dirs, cover, rule, words):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]}, cover=cover)
    outcome = _only_outcome(raw, tmp_path)
    assert outcome.status == "rejected"
    (issue,) = outcome.issues
    assert (issue["rule"], issue["sheet"], issue["severity"]) == (rule, "Cover", "error")
    assert words in issue["message"]
    assert outcome.records == {}


def test_a_cover_formula_without_its_result_is_refused_as_such(tmp_path, dirs):
    raw, _ = dirs
    path = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    book = load_workbook(path)
    book["Cover"]["B5"] = "=DATE(2020,4,15)"  # submitted_on, saved by openpyxl
    book.save(path)
    outcome = _only_outcome(raw, tmp_path)
    assert outcome.status == "rejected"
    (issue,) = outcome.issues
    assert (issue["rule"], issue["sheet"], issue["row"], issue["column"]) == (
        "formula_without_value",
        "Cover",
        5,
        "submitted_on",
    )
    assert issue["message"].startswith("submitted_on holds the formula =DATE(2020,4,15)")


def test_submitted_on_as_iso_text_is_a_date(tmp_path, dirs):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {}, cover={"submitted_on": "2020-04-15"})
    outcome = _only_outcome(raw, tmp_path)
    assert (outcome.status, outcome.submitted_on, outcome.on_time) == (
        "accepted",
        dt.date(2020, 4, 15),
        True,
    )
    assert outcome.issues == []


def test_partner_outside_its_phase(tmp_path, dirs):
    raw, _ = dirs
    (raw / "P11").mkdir()
    write_template("P11", "RP08", raw / "P11" / "RP09.xlsx", cover={"period_id": "RP09"})
    outcome = _only_outcome(raw, tmp_path)
    assert [i["rule"] for i in outcome.issues] == ["not_in_phase"]


def test_missing_sheet_and_missing_required_column(tmp_path, dirs):
    raw, _ = dirs
    path = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    book = load_workbook(path)
    del book["Collaborations"]
    book.save(path)
    outcome = _only_outcome(raw, tmp_path)
    assert [(i["rule"], i["sheet"]) for i in outcome.issues] == [
        ("missing_sheet", "Collaborations")
    ]

    path = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    book = load_workbook(path)
    book["Events"]["C1"] = None  # the event_type header
    book.save(path)
    outcome = _only_outcome(raw, tmp_path)
    assert [(i["rule"], i["sheet"], i["column"]) for i in outcome.issues] == [
        ("missing_column", "Events", "event_type")
    ]


def test_extra_column_is_a_warning_and_the_rows_flow_on(tmp_path, dirs):
    raw, _ = dirs
    path = make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    book = load_workbook(path)
    book["Events"]["M1"] = "Remarks"
    book["Events"]["M2"] = "fine"
    book.save(path)
    outcome = _only_outcome(raw, tmp_path)
    assert outcome.status == "accepted"
    assert [(i["rule"], i["severity"], i["column"]) for i in outcome.issues] == [
        ("unknown_column", "warning", "Remarks")
    ]
    assert "column M" in outcome.issues[0]["message"]
    assert len(outcome.records["events"]) == 1


def test_late_and_on_time_submissions(tmp_path, dirs):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {}, cover={"submitted_on": dt.date(2020, 6, 30)})
    assert _only_outcome(raw, tmp_path).on_time is True
    make_workbook(raw, "P4", "RP07", {}, cover={"submitted_on": dt.date(2020, 7, 1)})
    assert _only_outcome(raw, tmp_path).on_time is False


def test_ods_workbook_is_read_like_xlsx(tmp_path, dirs):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {s: [r] for s, r in GOOD_ROWS.items()}, suffix=".ods")
    outcome = _only_outcome(raw, tmp_path)
    assert outcome.status == "accepted", outcome.issues
    assert outcome.issues == []
    assert {name: len(frame) for name, frame in outcome.records.items()} == {
        "events": 1,
        "good_practices": 1,
        "policy_measures": 1,
        "collaborations": 1,
    }


def test_two_workbooks_for_one_partner_period_are_both_refused(tmp_path, dirs):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]}, suffix=".ods")
    before = [SubmissionState("P4", "RP07")]
    (state,) = refresh(discover(raw, reference()), before, reference(), tmp_path / "archive").states
    assert [(v["file"], v["status"]) for v in state.refused] == [
        ("P4/RP07.ods", "rejected"),
        ("P4/RP07.xlsx", "rejected"),
    ]
    assert state.in_use is None
    several = [i for i in state.open_issues if i["rule"] == "several_workbooks"]
    assert sorted(i["file"] for i in several) == ["P4/RP07.ods", "P4/RP07.xlsx"]
    assert all("P4/RP07.ods, P4/RP07.xlsx" in i["message"] for i in several)
