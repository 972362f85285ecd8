"""One test per validation rule of SPEC section 4, through real workbooks.

Each case writes a workbook whose row 2 keeps every rule and whose row 3 breaks one,
ingests it and checks that the issue lands on the right sheet, row and column with
the right severity, and that row 2 gives no issue at all.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.core.intake.discovery import discover
from pipelines.core.intake.ingest import ingest
from pipelines.core.metadata.rules import RULES
from pipelines.core.reference.loader import reference
from pipelines.core.state.versions import Outcome
from tests.helpers.workbooks import GOOD_ROWS, make_workbook

D = dt.date

# (id, sheet, changes to the good row, rule, column, severity)
ROW_CASES = [
    ("missing", "Events", {"title": None}, "required_value_missing", "title", "error"),
    ("wrong-type", "Events", {"participants": "many"}, "wrong_type", "participants", "error"),
    ("enum", "Events", {"event_type": "conference"}, "not_in_enumeration", "event_type", "error"),
    ("enum-format", "Events", {"format": "virtual"}, "not_in_enumeration", "format", "error"),
    ("negative", "Events", {"participants": -1}, "negative_value", "participants", "error"),
    ("end<start", "Events", {"end_date": D(2019, 5, 19)}, "end_before_start", "end_date", "error"),
    (
        "outside-project",
        "Events",
        {"start_date": D(2015, 6, 1)},
        "date_outside_project",
        "start_date",
        "error",
    ),
    (
        "after-submission",
        "Events",
        {"start_date": D(2020, 4, 20)},
        "date_after_submission",
        "start_date",
        "error",
    ),
    (
        "no-guest",
        "Events",
        {"event_type": "staff_exchange", "end_date": D(2019, 5, 24)},
        "guest_partner_missing",
        "guest_partner_id",
        "error",
    ),
    (
        "self-guest",
        "Events",
        {"event_type": "staff_exchange", "guest_partner_id": "P4"},
        "guest_partner_is_self",
        "guest_partner_id",
        "error",
    ),
    (
        "unknown-guest",
        "Events",
        {"event_type": "staff_exchange", "guest_partner_id": "P99"},
        "unknown_guest_partner_id",
        "guest_partner_id",
        "error",
    ),
    (
        "bad-back-to-back",
        "Events",
        {"event_type": "project_meeting", "back_to_back": "study_visit;barbecue"},
        "unknown_back_to_back_activity",
        "back_to_back",
        "error",
    ),
    (
        "outside-period",
        "Events",
        {"start_date": D(2019, 3, 1)},
        "event_outside_period",
        "start_date",
        "warning",
    ),
    (
        "type-phase",
        "Events",
        {"event_type": "online_working_group_meeting"},
        "event_type_outside_phase",
        "event_type",
        "warning",
    ),
    (
        "long-exchange",
        "Events",
        {
            "event_type": "staff_exchange",
            "guest_partner_id": "P1",
            "end_date": D(2019, 6, 20),
        },
        "event_too_long",
        "end_date",
        "warning",
    ),
    (
        "back-to-back-elsewhere",
        "Events",
        {"back_to_back": "study_visit"},
        "back_to_back_not_allowed",
        "back_to_back",
        "warning",
    ),
    ("stage", "GoodPractices", {"stage": "done"}, "not_in_enumeration", "stage", "error"),
    (
        "practice-date-type",
        "GoodPractices",
        {"identified_on": "next week"},
        "wrong_type",
        "identified_on",
        "error",
    ),
    (
        "practice-missing-date",
        "GoodPractices",
        {"identified_on": None},
        "required_value_missing",
        "identified_on",
        "error",
    ),
    (
        "practice-after-submission",
        "GoodPractices",
        {"identified_on": D(2020, 5, 1)},
        "date_after_submission",
        "identified_on",
        "error",
    ),
    (
        "other-instrument",
        "PolicyMeasures",
        {"policy_instrument_id": "PI-P3"},
        "other_partners_instrument",
        "policy_instrument_id",
        "error",
    ),
    (
        "no-implemented-on",
        "PolicyMeasures",
        {"implemented_on": None},
        "implemented_without_date",
        "implemented_on",
        "error",
    ),
    (
        "negative-funds",
        "PolicyMeasures",
        {"other_funds_influenced_eur": Decimal("-5")},
        "negative_value",
        "other_funds_influenced_eur",
        "error",
    ),
    (
        "money-type",
        "PolicyMeasures",
        {"sf_influenced_eur": "lots"},
        "wrong_type",
        "sf_influenced_eur",
        "error",
    ),
    (
        "money-cents",
        "PolicyMeasures",
        {"sf_influenced_eur": 10.005},
        "wrong_type",
        "sf_influenced_eur",
        "error",
    ),
    (
        "missing-amount",
        "PolicyMeasures",
        {"other_funds_influenced_eur": None},
        "required_value_missing",
        "other_funds_influenced_eur",
        "error",
    ),
    (
        "status",
        "PolicyMeasures",
        {"status": "finished"},
        "not_in_enumeration",
        "status",
        "error",
    ),
    ("country", "Events", {"country": "XX"}, "unknown_country", "country", "error"),
    (
        "country-name",
        "GoodPractices",
        {"country": "Austria"},
        "unknown_country",
        "country",
        "error",
    ),
    ("year", "Collaborations", {"year": 2014}, "out_of_range", "year", "error"),
    (
        "count-type",
        "Collaborations",
        {"company_research_collaborations": 12.5},
        "wrong_type",
        "company_research_collaborations",
        "error",
    ),
]


def _ingest_one(raw: Path, tmp_path: Path) -> Outcome:
    (outcome,) = ingest(discover(raw, reference()), reference(), tmp_path / "archive")
    return outcome


SHEETS = {
    "Events": ("event_ref", "events"),
    "GoodPractices": ("practice_ref", "good_practices"),
    "PolicyMeasures": ("measure_ref", "policy_measures"),
    "Collaborations": ("year", "collaborations"),
}


def _second_row(sheet: str, changes: dict) -> dict:
    """The good row with a new natural key and the changes that break one rule."""
    ref_column, _ = SHEETS[sheet]
    new_ref = 2020 if ref_column == "year" else "REF-2"
    return {**GOOD_ROWS[sheet], ref_column: new_ref, **changes}


@pytest.mark.parametrize(
    ("sheet", "changes", "rule", "column", "severity"),
    [case[1:] for case in ROW_CASES],
    ids=[case[0] for case in ROW_CASES],
)
def test_row_rule(tmp_path, dirs, sheet, changes, rule, column, severity):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {sheet: [GOOD_ROWS[sheet], _second_row(sheet, changes)]})
    outcome = _ingest_one(raw, tmp_path)

    assert outcome.status == "accepted"
    found = [i for i in outcome.issues if i["rule"] == rule]
    assert found, f"no {rule} issue in {outcome.issues}"
    issue = found[0]
    assert (issue["sheet"], issue["row"], issue["column"], issue["severity"]) == (
        sheet,
        3,
        column,
        severity,
    )
    assert issue["message"]
    assert not [i for i in outcome.issues if i["row"] == 2], "the good row raised an issue"
    kept_rows = set(outcome.records[SHEETS[sheet][1]]["row"])
    assert 2 in kept_rows
    assert (3 in kept_rows) == (severity == "warning")


def test_wrong_type_message_speaks_to_the_partner(tmp_path, dirs):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [{**GOOD_ROWS["Events"], "participants": "many"}]})
    outcome = _ingest_one(raw, tmp_path)
    (issue,) = outcome.issues
    assert issue["message"] == "participants must be a whole number >= 0, got 'many'"
    assert issue["value"] == "many"


def test_repeated_ref_flags_every_row(tmp_path, dirs):
    raw, _ = dirs
    event = GOOD_ROWS["Events"]
    make_workbook(
        raw,
        "P4",
        "RP07",
        {"Events": [event, {**event, "title": "Other"}, {**event, "event_ref": "EV-2"}]},
    )
    outcome = _ingest_one(raw, tmp_path)
    rows = sorted(i["row"] for i in outcome.issues if i["rule"] == "duplicate_ref")
    assert rows == [2, 3]
    assert list(outcome.records["events"]["event_ref"]) == ["EV-2"]


def test_sf_funds_on_an_instrument_without_structural_funds(tmp_path, dirs):
    raw, _ = dirs
    measure = {**GOOD_ROWS["PolicyMeasures"], "policy_instrument_id": "PI-P9"}
    bad = {**measure, "measure_ref": "M-2", "sf_influenced_eur": Decimal("100")}
    make_workbook(raw, "P9", "RP07", {"PolicyMeasures": [{**measure, "sf_influenced_eur": 0}, bad]})
    outcome = _ingest_one(raw, tmp_path)
    assert [(i["rule"], i["row"], i["column"]) for i in outcome.issues] == [
        ("sf_on_non_sf_instrument", 3, "sf_influenced_eur")
    ]


def test_date_in_the_2021_gap_is_a_warning(tmp_path, dirs):
    raw, _ = dirs
    event = {**GOOD_ROWS["Events"], "start_date": D(2021, 3, 20)}
    gap = {**event, "event_ref": "EV-2", "start_date": D(2021, 5, 3)}
    make_workbook(
        raw, "P4", "RP08", {"Events": [event, gap]}, cover={"submitted_on": D(2021, 6, 1)}
    )
    outcome = _ingest_one(raw, tmp_path)
    found = {(i["rule"], i["row"], i["column"], i["severity"]) for i in outcome.issues}
    assert ("date_in_gap", 3, "start_date", "warning") in found
    assert not [i for i in outcome.issues if i["row"] == 2]
    assert set(outcome.records["events"]["row"]) == {2, 3}


def test_typed_records(tmp_path, dirs):
    raw, _ = dirs
    make_workbook(raw, "P4", "RP07", {s: [row] for s, row in GOOD_ROWS.items()})
    outcome = _ingest_one(raw, tmp_path)
    assert outcome.issues == []
    event = outcome.records["events"].iloc[0]
    assert event["start_date"] == D(2019, 5, 20)
    assert event["end_date"] == D(2019, 5, 20), "end_date defaults to start_date"
    assert event["participants"] == 30
    measure = outcome.records["policy_measures"].iloc[0]
    assert measure["sf_influenced_eur"] == Decimal("1000.50")
    assert isinstance(measure["sf_influenced_eur"], Decimal)


def test_unparsable_start_date_is_reported_once(tmp_path, dirs):
    raw, _ = dirs
    make_workbook(
        raw, "P4", "RP07", {"Events": [{**GOOD_ROWS["Events"], "start_date": "20.05.2019"}]}
    )
    outcome = _ingest_one(raw, tmp_path)
    assert [(i["rule"], i["column"]) for i in outcome.issues] == [("wrong_type", "start_date")]


def test_sheet_schema_is_generated_from_the_sheet_definition():
    """A column added to a sheet definition is checked from its field alone."""
    from dataclasses import replace

    import pandas as pd

    from pipelines.core.metadata.fields import Field
    from pipelines.core.metadata.schemas import sheet_schema
    from pipelines.core.metadata.tables import COLLABORATIONS_SHEET

    extra = Field("visits", "integer", "Visits.", min_value=0)
    sheet = replace(COLLABORATIONS_SHEET, columns=(*COLLABORATIONS_SHEET.columns, extra))
    frame = pd.DataFrame(
        {
            "year": [2019, 2020],
            "company_research_collaborations": [1, 2],
            "cross_sector_cluster_partnerships": [None, None],
            "source": [None, None],
            "visits": [3, -1],
        },
        dtype=object,
    )
    schema = sheet_schema(sheet, reference())
    assert schema.columns["visits"].description == "Visits."
    with pytest.raises(Exception) as failed:
        schema.validate(frame, lazy=True)
    cases = failed.value.failure_cases
    assert list(zip(cases["column"], cases["check"], cases["index"], strict=True)) == [
        ("visits", "negative_value", 1)
    ]


def test_every_rule_is_described_in_plain_words():
    """A partner reads the description in place of the rule's name (feedback workbooks)."""
    for rule in RULES.values():
        assert rule.description[0].isupper(), rule.name
        assert "_" not in rule.description and "{" not in rule.description, rule.name
    assert len({r.description for r in RULES.values()}) == len(RULES), "each says its own"
