"""Resolving the current facts: latest period wins, consortium events counted once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pipelines.core.intake.issues import ISSUE_COLUMNS
from pipelines.core.metadata.schemas import table_schema
from pipelines.core.metadata.tables import (
    COLLABORATIONS,
    EVENTS,
    FACT_TABLES,
    GOOD_PRACTICES,
    POLICY_MEASURES,
)
from pipelines.core.reference.loader import reference
from pipelines.core.state.facts import (
    DUPLICATE_RULE,
    Facts,
    latest_reported_period,
    resolve_facts,
    resolve_facts_up_to,
)
from tests.helpers.project_history import event, records_frame

REF = reference()


def assert_conforms(facts: Facts) -> None:
    for table in FACT_TABLES:
        table_schema(table).validate(facts.tables[table.name])
    assert list(facts.issues.columns) == list(ISSUE_COLUMNS)


def test_no_records_gives_empty_typed_tables() -> None:
    facts = resolve_facts({}, REF)
    assert_conforms(facts)
    assert all(frame.empty for frame in facts.tables.values())
    assert list(facts.tables["events"].columns) == EVENTS.column_names


def test_restated_collaboration_figure_replaces_the_earlier_one() -> None:
    later_first = [
        {
            "partner_id": "P3",
            "period_id": "RP07",
            "year": 2018,
            "company_research_collaborations": 40,
        },
        {
            "partner_id": "P3",
            "period_id": "RP05",
            "year": 2018,
            "company_research_collaborations": 25,
        },
        {
            "partner_id": "P3",
            "period_id": "RP05",
            "year": 2015,
            "company_research_collaborations": 20,
        },
    ]
    facts = resolve_facts({"collaborations": records_frame(COLLABORATIONS, later_first)}, REF)
    assert_conforms(facts)
    table = facts.tables["collaborations"]
    assert table[["year", "company_research_collaborations", "period_id"]].values.tolist() == [
        [2015, 20, "RP05"],
        [2018, 40, "RP07"],
    ]
    assert table.loc[1, "file"] == "P3/RP07.xlsx"


def test_practice_moving_stage_is_one_row_at_its_latest_stage() -> None:
    rows = [
        {
            "partner_id": "P2",
            "period_id": period,
            "practice_ref": "GP-1",
            "title": "Cluster vouchers",
            "country": "IT",
            "identified_on": dt.date(2016, 6, 1),
            "stage": stage,
        }
        for period, stage in [("RP01", "identified"), ("RP02", "analysed"), ("RP04", "structured")]
    ]
    facts = resolve_facts({"good_practices": records_frame(GOOD_PRACTICES, rows)}, REF)
    assert_conforms(facts)
    table = facts.tables["good_practices"]
    assert len(table) == 1
    assert (table.loc[0, "stage"], table.loc[0, "period_id"]) == ("structured", "RP04")


def test_money_stays_decimal_to_the_cent() -> None:
    row = {
        "partner_id": "P1",
        "period_id": "RP07",
        "measure_ref": "M-1",
        "policy_instrument_id": "PI-P1",
        "description": "New call",
        "status": "planned",
        "sf_influenced_eur": Decimal("1000.5"),
        "other_funds_influenced_eur": Decimal("0"),
    }
    facts = resolve_facts({"policy_measures": records_frame(POLICY_MEASURES, [row])}, REF)
    assert_conforms(facts)
    amounts = facts.tables["policy_measures"].loc[
        0, ["sf_influenced_eur", "other_funds_influenced_eur"]
    ]
    assert [str(v) for v in amounts] == ["1000.50", "0.00"]


def test_event_period_comes_from_the_start_date_not_the_report() -> None:
    rows = [event("P4", "RP03", "SM-1", "regional_stakeholder_meeting", "2017-02-14")]
    facts = resolve_facts({"events": records_frame(EVENTS, rows)}, REF)
    table = facts.tables["events"]
    assert (table.loc[0, "event_period_id"], table.loc[0, "event_phase"]) == ("RP02", "1")
    assert bool(table.loc[0, "counted"])


def test_project_meeting_reported_by_two_partners_counts_once_with_a_warning() -> None:
    rows = [
        event("P2", "RP03", "PM-A", "project_meeting", "2017-05-10"),
        event("P1", "RP03", "PM-3", "project_meeting", "2017-05-10"),
        event("P1", "RP03", "PM-4", "project_meeting", "2017-11-20"),
        event("P2", "RP03", "SM-1", "regional_stakeholder_meeting", "2017-05-10"),
        event("P3", "RP03", "SM-9", "regional_stakeholder_meeting", "2017-05-10"),
    ]
    facts = resolve_facts({"events": records_frame(EVENTS, rows)}, REF)
    assert_conforms(facts)
    table = facts.tables["events"]
    counted = dict(
        zip(table["partner_id"] + ":" + table["event_ref"], table["counted"], strict=True)
    )
    assert counted == {
        "P1:PM-3": True,
        "P1:PM-4": True,
        "P2:PM-A": False,
        "P2:SM-1": True,
        "P3:SM-9": True,
    }
    assert len(facts.issues) == 1
    issue = facts.issues.iloc[0]
    assert (issue["partner_id"], issue["period_id"], issue["file"], issue["sha256"]) == (
        "P2",
        "RP03",
        "P2/RP03.xlsx",
        "sha-P2-RP03",
    )
    assert (issue["sheet"], issue["row"], issue["column"], issue["value"]) == (
        "Events",
        2,
        "start_date",
        "2017-05-10",
    )
    assert (issue["severity"], issue["rule"]) == ("warning", DUPLICATE_RULE)
    assert "project_meeting on 2017-05-10 is also reported by P1" in issue["message"]
    assert "counted once" in issue["message"]


def test_same_partner_reporting_a_consortium_meeting_twice_counts_it_once() -> None:
    rows = [
        event("P6", "RP07", "MM-1", "monitoring_meeting", "2019-10-03"),
        event("P6", "RP07", "MM-2", "monitoring_meeting", "2019-10-03"),
    ]
    facts = resolve_facts({"events": records_frame(EVENTS, rows)}, REF)
    assert facts.tables["events"]["counted"].tolist() == [True, False]
    assert "also in your report as event_ref MM-1" in facts.issues.loc[0, "message"]


def test_duplicate_is_judged_on_the_latest_rows() -> None:
    """A date corrected in a later period removes the clash and its warning."""
    rows = [
        event("P1", "RP03", "PM-3", "project_meeting", "2017-05-10"),
        event("P2", "RP03", "PM-A", "project_meeting", "2017-05-10"),
        event("P2", "RP04", "PM-A", "project_meeting", "2017-11-20"),
    ]
    facts = resolve_facts({"events": records_frame(EVENTS, rows)}, REF)
    assert facts.tables["events"]["counted"].tolist() == [True, True]
    assert facts.issues.empty


def test_facts_up_to_a_period_ignore_later_reports() -> None:
    rows = [
        {
            "partner_id": "P7",
            "period_id": "RP02",
            "year": 2016,
            "company_research_collaborations": 5,
        },
        {
            "partner_id": "P7",
            "period_id": "RP04",
            "year": 2016,
            "company_research_collaborations": 7,
        },
        {
            "partner_id": "P7",
            "period_id": "RP04",
            "year": 2017,
            "company_research_collaborations": 9,
        },
    ]
    records = {"collaborations": records_frame(COLLABORATIONS, rows)}
    early = resolve_facts_up_to(records, REF, "RP03").tables["collaborations"]
    assert early[["year", "company_research_collaborations"]].values.tolist() == [[2016, 5]]
    assert len(resolve_facts_up_to(records, REF, "RP04").tables["collaborations"]) == 2
    assert latest_reported_period(records, REF) == "RP04"
    assert latest_reported_period({}, REF) is None


def test_unknown_period_is_refused() -> None:
    rows = [
        {
            "partner_id": "P7",
            "period_id": "RP99",
            "year": 2016,
            "company_research_collaborations": 5,
        }
    ]
    with pytest.raises(ValueError, match="RP99"):
        resolve_facts({"collaborations": records_frame(COLLABORATIONS, rows)}, REF)
    with pytest.raises(ValueError, match="RP42"):
        resolve_facts_up_to({}, REF, "RP42")


def test_refs_differing_only_in_case_spaces_or_punctuation_are_flagged() -> None:
    rows = [
        event("P4", "RP02", "EV-001", "regional_stakeholder_meeting", "2016-11-10"),
        event("P4", "RP03", "ev-001", "regional_stakeholder_meeting", "2016-11-10"),
        event("P4", "RP03", "EV 001", "regional_stakeholder_meeting", "2016-11-10"),
        event("P4", "RP03", "EV-002", "regional_stakeholder_meeting", "2017-05-10"),
        event("P6", "RP03", "ev-001", "regional_stakeholder_meeting", "2017-05-11"),
    ]
    facts = resolve_facts({"events": records_frame(EVENTS, rows)}, REF)
    assert_conforms(facts)
    assert len(facts.tables["events"]) == 5, "distinct keys stay distinct rows"
    flagged = facts.issues[facts.issues["rule"] == "near_duplicate_ref"]
    assert sorted(zip(flagged["partner_id"], flagged["value"], strict=True)) == [
        ("P4", "EV 001"),
        ("P4", "ev-001"),
    ]
    assert set(flagged["severity"]) == {"warning"}
    assert set(flagged["file"]) == {"P4/RP03.xlsx"}
    assert all("'EV-001' (reported in RP02)" in m for m in flagged["message"])
