"""Hand-made workbooks with known answers for every indicator, through the whole pipeline.

The story: P1 hosts a project meeting that P2 reports too (counted once); P1's good
practice moves from identified to structured; its measure is planned in RP01 and
implemented in RP07 with new amounts; a collaboration figure is restated in RP08;
P9's non-SF instrument gets a measure; and P2 replaces its RP07 workbook with one
that is rejected, which must change nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from pipelines.app.run import run_everything
from pipelines.core.metadata.tables import INDICATOR_PROGRESS, INDICATOR_SCORECARD, SUBMISSIONS
from pipelines.core.outputs.parquet import read_parquet
from tests.helpers.dagster import dagster_instance
from tests.helpers.workbooks import event_row, make_workbook, measure_row, practice_row

D = dt.date


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw")
    assets = tmp_path_factory.mktemp("assets")
    mp = pytest.MonkeyPatch()
    mp.setenv("CLUSTERIX_RAW_DIR", str(raw))
    mp.setenv("CLUSTERIX_ASSETS_DIR", str(assets))
    mp.setenv("CLUSTERIX_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    p1_rp01 = {
        "Events": [
            event_row("PM-1", "project_meeting", D(2016, 6, 10)),
            event_row("RSM-1", "regional_stakeholder_meeting", D(2016, 7, 5)),
        ],
        "GoodPractices": [practice_row("identified")],
        "PolicyMeasures": [measure_row("M-1", "PI-P1", "planned", "100000", "0")],
    }
    make_workbook(raw, "P1", "RP01", p1_rp01, cover={"submitted_on": D(2016, 10, 20)})
    p2_rp01 = {"Events": [event_row("X-7", "project_meeting", D(2016, 6, 10), country="IT")]}
    make_workbook(raw, "P2", "RP01", p2_rp01, cover={"submitted_on": D(2017, 1, 15)})
    p1_rp07 = {
        "Events": [event_row("MM-1", "monitoring_meeting", D(2019, 10, 1))],
        "GoodPractices": [practice_row("structured")],
        "PolicyMeasures": [
            measure_row("M-1", "PI-P1", "implemented", "150000.50", "20000", D(2019, 9, 1))
        ],
        "Collaborations": [
            {"year": 2015, "company_research_collaborations": 100},
            {"year": 2019, "company_research_collaborations": 104},
        ],
    }
    make_workbook(raw, "P1", "RP07", p1_rp07)
    p1_rp08 = {"Collaborations": [{"year": 2019, "company_research_collaborations": 106}]}
    make_workbook(raw, "P1", "RP08", p1_rp08, cover={"submitted_on": D(2021, 5, 1)})
    p3_rp07 = {
        "Collaborations": [
            {"year": 2015, "company_research_collaborations": 200},
            {"year": 2020, "company_research_collaborations": 208},
        ]
    }
    make_workbook(raw, "P3", "RP07", p3_rp07)
    p2_rp07 = {"Collaborations": [{"year": 2016, "company_research_collaborations": 50}]}
    make_workbook(raw, "P2", "RP07", p2_rp07)
    p9_rp07 = {
        "PolicyMeasures": [measure_row("M-9", "PI-P9", "implemented", "0", "1000", D(2019, 6, 1))]
    }
    make_workbook(raw, "P9", "RP07", p9_rp07)

    with dagster_instance() as instance:
        assert run_everything(instance).success
        rejected = {"Events": [event_row("RSM-9", "regional_stakeholder_meeting", D(2019, 5, 1))]}
        make_workbook(raw, "P2", "RP07", rejected, cover={"template_version": 2})
        assert run_everything(instance).success
    yield assets
    mp.undo()


EXPECTED = {
    "O1.1": 1,
    "O1.2": 0,
    "O1.3": 0,
    "O1.4": 1,
    "O1.5": 1,
    "O1": 3,
    "O1X": 0,
    "O2": 1,
    "R1": 1,
    "R2": 1,
    "R3": Decimal("150000.50"),
    "R4": Decimal("21000.00"),
    "C1": Decimal("5.00"),
}


def test_every_indicator_has_its_known_answer(published):
    scorecard = read_parquet(INDICATOR_SCORECARD, published).set_index("indicator_id")
    got = {key: scorecard.loc[key, "achieved"] for key in EXPECTED}
    assert got == {key: Decimal(value) for key, value in EXPECTED.items()}
    assert scorecard.loc["R3", "pct_of_target"] == Decimal("2.90")


def test_rejected_resubmission_changes_nothing(published):
    submissions = read_parquet(SUBMISSIONS, published)
    p2 = submissions[(submissions["partner_id"] == "P2") & (submissions["period_id"] == "RP07")]
    assert list(p2["status"]) == ["accepted", "rejected"]
    assert list(p2["current"]) == [True, False]


def test_progress_as_reported_period_by_period(published):
    progress = read_parquet(INDICATOR_PROGRESS, published)
    r3 = progress[progress["indicator_id"] == "R3"].set_index("period_id")["achieved"]
    assert r3["RP01"] == Decimal("0.00"), "a planned measure influences no funds yet"
    assert r3["RP07"] == Decimal("150000.50")
    c1 = progress[progress["indicator_id"] == "C1"].set_index("period_id")["achieved"]
    assert c1["RP07"] == Decimal("4.00"), "P1 4 % and P3 4 % before the restatement"
    assert c1["RP08"] == Decimal("5.00"), "P1 restated to 6 %"


def test_duplicate_meeting_is_published_once_counted(published):
    events = duckdb.sql(
        f"SELECT partner_id, counted FROM '{published / 'events.parquet'}'"
        " WHERE event_type = 'project_meeting' ORDER BY partner_id"
    ).fetchall()
    assert events == [("P1", True), ("P2", False)]
    issues = duckdb.sql(
        f"SELECT partner_id, rule FROM '{published / 'validation_issues.parquet'}'"
        " WHERE rule = 'probable_duplicate'"
    ).fetchall()
    assert issues == [("P2", "probable_duplicate")]
