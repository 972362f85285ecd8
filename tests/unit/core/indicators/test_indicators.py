"""Indicators, progress, completeness and the stakeholder floor on hand-made records.

One small project history (``RECORDS``) exercises every indicator; its known answers
are worked out in the comments next to the rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipelines.core.indicators.compute import (
    c1_regions,
    compute_indicators,
    floor_gaps,
    indicator_breakdown,
    indicator_progress,
    indicator_scorecard,
    overall_reporting_rate,
    percentage,
    reporting_rates,
    stakeholder_meeting_floor,
    submission_completeness,
)
from pipelines.core.metadata.enumerations import LATE, MISSING, NOT_EXPECTED, ON_TIME, REJECTED
from pipelines.core.metadata.schemas import table_schema
from pipelines.core.metadata.tables import (
    C1_REGIONS,
    INDICATOR_BREAKDOWN,
    INDICATOR_PROGRESS,
    INDICATOR_SCORECARD,
    REPORTING_RATES,
    STAKEHOLDER_MEETING_FLOOR,
    SUBMISSION_COMPLETENESS,
)
from pipelines.core.outputs.parquet import write_parquet
from pipelines.core.reference.loader import reference
from pipelines.core.state.facts import resolve_facts
from tests.helpers.project_history import RECORDS, submissions

REF = reference()
EXPECTED_ACHIEVED = {
    "O1": "9",
    "O1.1": "2",
    "O1.2": "1",
    "O1.3": "1",
    "O1.4": "1",
    "O1.5": "4",
    "O1X": "3",
    "O1X.1": "1",
    "O1X.2": "1",
    "O1X.3": "0",
    "O1X.4": "1",
    "O2": "2",
    "R1": "2",
    "R2": "1",
    "R3": "251000.60",
    "R4": "360000.75",
    "C1": "5.00",
}


@pytest.fixture(scope="module")
def facts():
    return resolve_facts(RECORDS, REF)


@pytest.fixture(scope="module")
def results(facts):
    return compute_indicators(facts.tables, REF)


def breakdown_of(results, indicator_id: str, dimension: str) -> dict[str, Decimal]:
    frame = results[indicator_id].breakdown
    rows = frame[frame["dimension"] == dimension]
    return dict(zip(rows["category"], rows["achieved"], strict=True))


def test_every_indicator_has_its_known_answer(results) -> None:
    assert list(results) == list(REF.indicators["indicator_id"])
    assert {k: r.achieved for k, r in results.items()} == {
        k: Decimal(v) for k, v in EXPECTED_ACHIEVED.items()
    }
    assert str(results["R3"].achieved) == "251000.60"


def test_scorecard_has_targets_and_percentages(results) -> None:
    scorecard = indicator_scorecard(results)
    table_schema(INDICATOR_SCORECARD).validate(scorecard)
    row = scorecard.set_index("indicator_id")
    assert row.loc["O1", "target"] == Decimal(81)
    assert row.loc["O1", "pct_of_target"] == Decimal("11.1")  # 9 / 81
    assert row.loc["R2", "pct_of_target"] == Decimal("100.0")
    assert row.loc["C1", "pct_of_target"] == Decimal("100.0")  # 5.00 % of a 5.0 % target
    assert row.loc["R3", "pct_of_target"] == Decimal("4.9")  # 251000.60 / 5086000


def test_percentage_has_no_meaning_without_a_target_or_a_value() -> None:
    assert percentage(Decimal(3), Decimal(0)) is None
    assert percentage(None, Decimal(5)) is None
    assert percentage(Decimal(1), Decimal(3)) == Decimal("33.3")


def test_event_breakdowns_by_partner_and_event_period(results) -> None:
    by_partner = breakdown_of(results, "O1.1", "partner")
    assert by_partner["P1"] == 2 and by_partner["P2"] == 0
    assert list(by_partner) == REF.partner_ids
    by_period = breakdown_of(results, "O1.5", "event_period")
    assert (by_period["RP01"], by_period["RP02"], by_period["RP03"]) == (2, 2, 0)
    assert breakdown_of(results, "O1X.1", "partner")["P1"] == 1  # P1 comes first
    assert breakdown_of(results, "O1", "indicator") == {
        "O1.1": 2,
        "O1.2": 1,
        "O1.3": 1,
        "O1.4": 1,
        "O1.5": 4,
    }
    assert breakdown_of(results, "O1", "partner")["P1"] == 2 + 2


def test_each_breakdown_dimension_adds_up_to_the_indicator(results) -> None:
    for indicator_id, result in results.items():
        if indicator_id == "C1":
            continue
        for dimension, rows in result.breakdown.groupby("dimension"):
            assert sum(rows["achieved"], Decimal(0)) == result.achieved, (indicator_id, dimension)


def test_practice_counts_once_at_its_latest_stage(results) -> None:
    assert breakdown_of(results, "O2", "stage") == {
        "identified": 0,
        "analysed": 1,
        "structured": 1,
    }


def test_measures_count_once_implemented_with_their_latest_amounts(results) -> None:
    assert breakdown_of(results, "R1", "policy_instrument")["PI-P1"] == 1
    assert breakdown_of(results, "R1", "policy_instrument")["PI-P3"] == 0  # in progress only
    assert "PI-P9" not in breakdown_of(results, "R1", "policy_instrument")
    assert breakdown_of(results, "R2", "partner") == {"P9": 1}
    assert breakdown_of(results, "R3", "policy_instrument")["PI-P1"] == Decimal("250000.50")
    assert breakdown_of(results, "R4", "partner")["P9"] == Decimal("350000.75")


def test_collaboration_growth_leaves_out_regions_without_a_usable_2015(results) -> None:
    assert breakdown_of(results, "C1", "partner") == {
        "P1": Decimal("30.00"),
        "P2": Decimal("-20.00"),
    }
    regions = c1_regions(resolve_facts(RECORDS, REF).tables["collaborations"], REF)
    table_schema(C1_REGIONS).validate(regions)
    regions = regions.set_index("partner_id")
    assert regions["base_value"].dropna().to_dict() == {"P1": 100, "P2": 50, "P4": 0, "P6": 30}
    assert set(regions["base_year"]) == {2015}
    assert regions["latest_year"].dropna().to_dict() == {
        "P1": 2019,
        "P2": 2020,
        "P3": 2019,
        "P4": 2018,
    }
    assert regions.loc["P1", "latest_value"] == 130
    assert regions[regions["in_c1"]].index.tolist() == ["P1", "P2"]


def test_c1_is_empty_rather_than_zero_without_data() -> None:
    results = compute_indicators(resolve_facts({}, REF).tables, REF)
    assert results["C1"].achieved is None and results["C1"].pct_of_target is None
    assert results["O1"].achieved == 0


def test_breakdown_table_is_long_and_valid(results) -> None:
    table = indicator_breakdown(results)
    table_schema(INDICATOR_BREAKDOWN).validate(table)
    assert list(dict.fromkeys(table["indicator_id"])) == list(results)


def test_progress_shows_each_indicator_as_it_stood_after_each_period() -> None:
    progress = indicator_progress(RECORDS, REF)
    table_schema(INDICATOR_PROGRESS).validate(progress)
    series = {
        indicator_id: dict(zip(rows["period_id"], rows["achieved"], strict=True))
        for indicator_id, rows in progress.groupby("indicator_id")
    }
    assert list(series["O1"]) == REF.period_ids  # records reach RP11
    assert [series["O1.5"][p] for p in ("RP01", "RP02", "RP03")] == [2, 3, 4]
    assert [series["R1"][p] for p in ("RP06", "RP07", "RP08")] == [0, 1, 2]
    assert series["R3"]["RP05"] == 0  # M-1 only planned
    assert series["R3"]["RP07"] == Decimal("250000.50")
    assert series["R4"]["RP07"] == Decimal("310000.25")  # M-9's first figure + M-1
    assert series["C1"]["RP04"] is None
    assert [series["C1"][p] for p in ("RP05", "RP07", "RP08")] == [
        Decimal("10.00"),
        Decimal("30.00"),
        Decimal("5.00"),
    ]
    assert {k: v["RP11"] for k, v in series.items()} == {
        k: Decimal(v) for k, v in EXPECTED_ACHIEVED.items()
    }


def test_progress_stops_at_the_requested_period() -> None:
    progress = indicator_progress(RECORDS, REF, up_to="RP02")
    assert set(progress["period_id"]) == {"RP01", "RP02"}
    assert indicator_progress({}, REF).empty


def test_completeness_counts_accepted_current_workbooks() -> None:
    completeness = submission_completeness(submissions(), REF)
    table_schema(SUBMISSION_COMPLETENESS).validate(completeness)
    assert len(completeness) == 121
    assert completeness["expected"].sum() == 118
    columns = ["expected", "received", "on_time", "status"]
    rows = completeness.set_index(["partner_id", "period_id"])[columns]
    assert rows.loc[("P1", "RP01")].tolist() == [1, 1, True, "on_time"]
    assert rows.loc[("P1", "RP02")].tolist() == [1, 1, False, "late"]
    assert rows.loc[("P1", "RP03")].tolist() == [1, 0, False, "rejected"]
    assert rows.loc[("P2", "RP01")].tolist() == [1, 1, True, "on_time"]
    assert rows.loc[("P11", "RP09")].tolist() == [0, 0, False, "not_expected"]


def test_a_period_whose_deadline_is_ahead_is_not_yet_due() -> None:
    completeness = submission_completeness(submissions(), REF, as_of=dt.date(2022, 8, 1))
    rows = completeness.set_index(["partner_id", "period_id"])["status"]
    assert rows[("P1", "RP09")] == "missing"  # deadline 2022-06-30
    assert rows[("P1", "RP10")] == "not_yet_due"  # deadline 2022-12-31


def test_completeness_grid_and_rates() -> None:
    completeness = submission_completeness(submissions(), REF)
    grid = completeness.pivot(index="partner_id", columns="period_id", values="status")
    assert grid.loc["P1", ["RP01", "RP02", "RP03", "RP04"]].tolist() == [
        ON_TIME,
        LATE,
        REJECTED,
        MISSING,
    ]
    assert grid.loc["P11", "RP09"] == NOT_EXPECTED
    assert overall_reporting_rate(completeness) == Decimal("2.5")  # 3 of 118
    rates = reporting_rates(completeness)
    table_schema(REPORTING_RATES).validate(rates)
    rows = rates.set_index(["dimension", "category"])
    assert rows.loc[("project", "all"), ["expected", "received"]].tolist() == [118, 3]
    assert rows.loc[("project", "all"), "on_time_rate"] == Decimal("1.7")  # 2 of 118
    assert rows.loc[("period", "RP01"), "reporting_rate"] == Decimal("18.2")  # 2 of 11
    assert rows.loc[("partner", "P11"), "expected"] == 8


def test_stakeholder_floor_by_the_meetings_own_semester(facts) -> None:
    floor = stakeholder_meeting_floor(facts.tables["events"], REF)
    table_schema(STAKEHOLDER_MEETING_FLOOR).validate(floor)
    assert len(floor) == 10 * 6
    assert "P5" not in set(floor["partner_id"])
    met = floor[floor["floor_met"]]
    assert sorted(zip(met["partner_id"], met["period_id"], met["meetings"], strict=True)) == [
        ("P1", "RP01", 1),
        ("P1", "RP02", 1),
        ("P2", "RP01", 1),
        ("P2", "RP02", 1),
    ]
    gaps = floor_gaps(floor)
    assert len(gaps) == 56 and not gaps["floor_met"].any()
    assert gaps.loc[0, ["partner_id", "period_id"]].tolist() == ["P1", "RP03"]


def test_floor_is_unknown_where_no_workbook_of_the_partner_is_in_use(facts) -> None:
    """One decision for every surface: a period without the meetings is a gap only when
    the partner's workbook for it is in use; else nobody knows (the report and the run
    line both read floor_met)."""
    completeness = submission_completeness(submissions(), REF, dt.date(2021, 7, 1))
    floor = stakeholder_meeting_floor(facts.tables["events"], REF, completeness)
    table_schema(STAKEHOLDER_MEETING_FLOOR).validate(floor)
    known = floor.dropna(subset=["floor_met"])
    in_use = completeness[completeness["status"].isin(("on_time", "late"))]
    pairs = set(zip(in_use["partner_id"], in_use["period_id"], strict=True))
    for partner, period, met in zip(
        known["partner_id"], known["period_id"], known["floor_met"], strict=True
    ):
        assert met or (partner, period) in pairs
    # without completeness, 56 gaps; with it, no workbook is in use behind any of them
    assert len(floor_gaps(stakeholder_meeting_floor(facts.tables["events"], REF))) == 56
    assert (int(floor["floor_met"].isna().sum()), len(floor_gaps(floor))) == (56, 0)
    assert int(floor["floor_met"].eq(True).sum()) == 4


def test_tables_publish_to_typed_parquet(results, facts, tmp_path) -> None:
    completeness = submission_completeness(submissions(), REF)
    tables = {
        INDICATOR_SCORECARD: indicator_scorecard(results),
        INDICATOR_BREAKDOWN: indicator_breakdown(results),
        INDICATOR_PROGRESS: indicator_progress(RECORDS, REF, up_to="RP03"),
        SUBMISSION_COMPLETENESS: completeness,
        REPORTING_RATES: reporting_rates(completeness),
        STAKEHOLDER_MEETING_FLOOR: stakeholder_meeting_floor(facts.tables["events"], REF),
    }
    for table, frame in tables.items():
        written = pq.read_table(write_parquet(frame, table, tmp_path))
        assert written.schema.equals(table.arrow_schema(), check_metadata=False)
        assert written.num_rows == len(frame)
    scorecard = pq.read_table(tmp_path / "indicator_scorecard.parquet").to_pylist()
    assert scorecard[14]["achieved"] == Decimal("251000.60")


def test_a_consortium_event_reported_twice_counts_once_in_every_computation(facts) -> None:
    """Sums, record counts and distinct counts over events leave out the report of a
    consortium-level event another partner reported first (counted false), as count_events
    does: P2's PM-A (P1's meeting of 2017-05-10) and P1's OCM-1 (P9's) add nothing."""
    own = pd.DataFrame(
        [
            _leaf("S1", "sum", sheet="events", column="participants"),
            _leaf("S2", "count_records", sheet="events", filter="event_type = project_meeting"),
            _leaf("S3", "count_distinct", sheet="events", column="event_ref"),
        ],
        columns=REF.indicators.columns,
        dtype=object,
    )
    results = compute_indicators(facts.tables, replace(REF, indicators=own))
    events = facts.tables["events"]
    counted = events[events["counted"].astype(bool)]
    assert len(counted) == len(events) - 2
    assert results["S1"].achieved == Decimal(int(counted["participants"].sum()))
    assert results["S2"].achieved == Decimal(2)  # PM-1 and PM-3, not PM-A
    assert results["S3"].achieved == Decimal(counted["event_ref"].nunique())
    assert "PM-A" not in set(counted["event_ref"])


def _leaf(indicator_id: str, computation: str, **parameters: str) -> dict[str, object]:
    """An indicators.csv row of a leaf indicator (its target: 1,000)."""
    return {
        **dict.fromkeys(REF.indicators.columns),
        "indicator_id": indicator_id,
        "name": indicator_id,
        "indicator_type": "output",
        "unit": "records",
        "target": Decimal(1000),
        "computation": computation,
        "description": indicator_id,
        **parameters,
    }
