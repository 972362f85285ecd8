"""What an analyst asks, answered in DuckDB SQL on the published files, with known figures.

A fixed set of workbooks goes through two real runs. The story: P1 and P2 both report
the kick-off project meeting (counted once); P2, which changed its name in 2019,
implements a measure in RP01 and reports late; P1's good practice moves from
identified to structured and its measure from planned to implemented; P4 has one row
refused; P5's only workbook is refused; P2 replaces its RP07 workbook with one that is
refused, which changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal

import duckdb
import pytest

from pipelines.app.run import run_everything
from pipelines.core.metadata.tables import published_tables
from pipelines.core.outputs.manifest import current_manifest
from pipelines.core.outputs.warehouse import DATABASE, QUESTION_VIEWS, connect
from tests.helpers.dagster import dagster_instance
from tests.helpers.workbooks import GOOD_EVENT, event_row, make_workbook, measure_row, practice_row

D = dt.date


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    root = tmp_path_factory.mktemp("analyst")
    raw, published = root / "raw", root / "assets"
    raw.mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("CLUSTERIX_RAW_DIR", str(raw))
    mp.setenv("CLUSTERIX_ASSETS_DIR", str(published))
    mp.setenv("CLUSTERIX_STATE_DIR", str(root / "state"))
    make_workbook(
        raw,
        "P1",
        "RP01",
        {
            "Events": [
                event_row("PM-1", "project_meeting", D(2016, 6, 10)),
                event_row("RSM-1", "regional_stakeholder_meeting", D(2016, 7, 5)),
            ],
            "GoodPractices": [practice_row("identified")],
            "PolicyMeasures": [measure_row("M-1", "PI-P1", "planned", "100000", "0")],
        },
        cover={"submitted_on": D(2016, 10, 20)},
    )
    make_workbook(
        raw,
        "P2",
        "RP01",
        {
            "Events": [event_row("X-7", "project_meeting", D(2016, 6, 10), country="IT")],
            "PolicyMeasures": [
                measure_row("M-2", "PI-P2", "implemented", "50000", "0", D(2016, 8, 1))
            ],
        },
        cover={"submitted_on": D(2017, 1, 15)},
    )
    make_workbook(
        raw,
        "P1",
        "RP07",
        {
            "Events": [event_row("MM-1", "monitoring_meeting", D(2019, 10, 1))],
            "GoodPractices": [practice_row("structured")],
            "PolicyMeasures": [
                measure_row("M-1", "PI-P1", "implemented", "150000.50", "20000", D(2019, 9, 1))
            ],
            "Collaborations": [
                {"year": 2015, "company_research_collaborations": 100},
                {"year": 2019, "company_research_collaborations": 104},
            ],
        },
    )
    collaborations = [
        {"year": 2015, "company_research_collaborations": 200},
        {"year": 2020, "company_research_collaborations": 208},
    ]
    make_workbook(raw, "P3", "RP07", {"Collaborations": collaborations})
    make_workbook(
        raw,
        "P4",
        "RP07",
        {"Events": [GOOD_EVENT, {**GOOD_EVENT, "event_ref": "EV-2", "participants": "many"}]},
    )
    make_workbook(
        raw,
        "P9",
        "RP07",
        {
            "PolicyMeasures": [
                measure_row("M-9", "PI-P9", "implemented", "0", "1000", D(2019, 6, 1))
            ]
        },
    )
    make_workbook(raw, "P5", "RP07", {}, cover={"partner_id": "P6"})
    p2_rp07 = {"Collaborations": [{"year": 2016, "company_research_collaborations": 50}]}
    make_workbook(raw, "P2", "RP07", p2_rp07)
    with dagster_instance() as instance:
        assert run_everything(instance).success
        refused = {"Events": [event_row("RSM-9", "regional_stakeholder_meeting", D(2019, 5, 1))]}
        make_workbook(raw, "P2", "RP07", refused, cover={"template_version": 2})
        assert run_everything(instance).success
    yield published
    mp.undo()


@pytest.fixture
def sql(assets):
    with connect(assets) as connection:
        yield lambda query: connection.execute(query).fetchall()


def test_each_indicator_against_its_target(sql):
    rows = dict(sql("SELECT indicator_id, achieved FROM indicator_scorecard"))
    assert rows["O1.1"] == 1, "the kick-off meeting reported by P1 and P2 counts once"
    assert rows["O1.5"] == 2
    assert rows["O1"] == 4
    assert rows["O2"] == 1
    assert rows["R1"] == 2
    assert rows["R2"] == 1
    assert rows["R3"] == Decimal("200000.50")
    assert rows["R4"] == Decimal("21000.00")
    assert rows["C1"] == Decimal("4.00")
    assert sql("SELECT target, pct_of_target FROM indicator_scorecard WHERE indicator_id = 'R2'")[
        0
    ] == (Decimal("1.00"), Decimal("100.00"))


def test_funds_by_partner_instrument_and_period(sql):
    rows = sql(
        "SELECT partner_id, policy_instrument_id, implemented_period_id, sf_influenced_eur,"
        " other_funds_influenced_eur FROM funds_by_partner_instrument_period"
    )
    assert rows == [
        ("P1", "PI-P1", "RP07", Decimal("150000.50"), Decimal("20000.00")),
        ("P2", "PI-P2", "RP01", Decimal("50000.00"), Decimal("0.00")),
        ("P9", "PI-P9", "RP07", Decimal("0.00"), Decimal("1000.00")),
    ]
    # Joining the partner dimension never doubles P2, whatever its name history.
    total = sql(
        "SELECT sum(m.sf_influenced_eur) FROM policy_measures m JOIN partners p USING"
        " (partner_id) WHERE m.status = 'implemented'"
    )
    assert total == [(Decimal("200000.50"),)]
    named = sql(
        "SELECT n.name FROM policy_measures m JOIN partner_names n ON n.partner_id ="
        " m.partner_id AND m.implemented_on BETWEEN n.valid_from AND"
        " coalesce(n.valid_to, DATE '9999-12-31') WHERE m.measure_ref = 'M-2'"
    )
    assert named == [("IDM Suedtirol – Alto Adige",)], "the name P2 had when it implemented"


def test_events_by_type_and_phase(sql):
    rows = sql("SELECT event_type, event_phase, events, reports FROM events_by_type_phase")
    assert rows == [
        ("monitoring_meeting", "2", 1, 1),
        ("project_meeting", "1", 1, 2),
        ("regional_stakeholder_meeting", "1", 1, 1),
        ("regional_stakeholder_meeting", "2", 1, 1),
    ]


def test_what_is_missing_late_or_rejected(sql):
    rows = dict(sql("SELECT status, count(*) FROM submission_completeness GROUP BY 1"))
    assert rows == {"on_time": 6, "late": 1, "rejected": 1, "missing": 110, "not_expected": 3}
    late = sql("SELECT partner_id, period_id FROM submission_completeness WHERE status = 'late'")
    assert late == [("P2", "RP01")]
    refused = "SELECT partner_id, period_id FROM submission_completeness WHERE status = 'rejected'"
    assert sql(refused) == [("P5", "RP07")]
    assert sql("SELECT sum(expected) FROM submission_completeness") == [(118,)]


def test_progress_by_period(sql):
    rows = dict(
        sql(
            "SELECT period_id, achieved FROM indicator_progress WHERE indicator_id = 'R3'"
            " ORDER BY period_id"
        )
    )
    assert rows["RP01"] == Decimal("50000.00")
    assert rows["RP06"] == Decimal("50000.00")
    assert rows["RP07"] == Decimal("200000.50")
    units = sql("SELECT DISTINCT unit, name FROM indicator_progress WHERE indicator_id = 'R3'")
    assert units == [("EUR", "Structural Funds influenced")]


def test_practice_stage_moves(sql):
    rows = sql(
        "SELECT partner_id, practice_ref, stage, first_reported_period_id"
        " FROM good_practice_stage_history"
    )
    assert rows == [("P1", "GP-1", "identified", "RP01"), ("P1", "GP-1", "structured", "RP07")]
    first = sql("SELECT first_reported_period_id, period_id FROM good_practices")
    assert first == [("RP01", "RP07")]


def test_issues_open_for_one_partner(sql):
    rows = sql(
        "SELECT file, sheet, sheet_row, sheet_column, record_ref, rule FROM validation_issues"
        " WHERE partner_id = 'P4' AND is_open"
    )
    assert rows == [("P4/RP07.xlsx", "Events", 3, "participants", "EV-2", "wrong_type")]
    by_partner = dict(
        (partner, issues)
        for partner, severity, issues, _ in sql("SELECT * FROM open_issues_by_partner")
        if severity == "error"
    )
    assert by_partner["P4"] == 1
    assert by_partner["P5"] >= 1


def test_c1_regions_are_typed(sql):
    rows = sql(
        "SELECT partner_id, base_year, base_value, latest_year, latest_value, pct_change"
        " FROM c1_regions"
        " WHERE in_c1 ORDER BY partner_id"
    )
    assert rows == [
        ("P1", 2015, 100, 2019, 104, Decimal("4.00")),
        ("P3", 2015, 200, 2020, 208, Decimal("4.00")),
    ]
    kinds = dict(
        sql(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = 'c1_regions'"
        )
    )
    assert kinds["latest_year"] == "BIGINT"
    assert sql("SELECT DISTINCT dimension FROM indicator_breakdown WHERE indicator_id = 'C1'") == [
        ("partner",)
    ]


def test_dimensions_have_one_row_per_key(sql):
    assert sql("SELECT count(*), count(DISTINCT partner_id) FROM partners") == [(11, 11)]
    assert sql("SELECT name FROM partners WHERE partner_id = 'P2'") == [("NOI Techpark",)]
    assert sql("SELECT count(*) FROM partner_names WHERE partner_id = 'P2'") == [(2,)]
    assert sql("SELECT note IS NOT NULL FROM periods WHERE period_id = 'RP09'") == [(True,)]
    assert sql(
        "SELECT indicator_type, indicator_level, parent_indicator_id FROM indicators"
        " WHERE indicator_id = 'O1.3'"
    ) == [("output", 2, "O1")]
    kinds = dict(
        sql(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = 'submissions'"
        )
    )
    assert kinds["first_seen_at"] == "TIMESTAMP WITH TIME ZONE"


def test_no_published_table_has_an_empty_or_repeated_primary_key(assets, sql):
    for table in published_tables().values():
        assert table.primary_key, f"{table.name} has a primary key"
        key = ", ".join(table.primary_key)
        nulls = " OR ".join(f"{k} IS NULL" for k in table.primary_key)
        assert sql(f"SELECT count(*) FROM {table.name} WHERE {nulls}") == [(0,)], table.name
        repeated = sql(f"SELECT {key}, count(*) FROM {table.name} GROUP BY ALL HAVING count(*) > 1")
        assert repeated == [], table.name


def test_every_view_and_column_is_described(sql):
    views = dict(sql("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"))
    expected = set(published_tables()) | {name for name, *_ in QUESTION_VIEWS}
    assert set(views) == expected
    assert all(views.values())
    undescribed = sql(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE comment IS NULL"
        " AND NOT internal"
    )
    assert undescribed == []


def test_the_database_works_from_another_directory(assets, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plain = duckdb.connect(str(assets / DATABASE), read_only=True)
    with pytest.raises(duckdb.IOException):
        plain.execute("SELECT count(*) FROM partners").fetchall()  # relative to the cwd
    plain.execute(f"SET file_search_path = '{assets}'")
    assert plain.execute("SELECT count(*) FROM partners").fetchall() == [(11,)]
    plain.close()
    monkeypatch.chdir(assets)
    with duckdb.connect(DATABASE, read_only=True) as here:
        assert here.execute("SELECT count(*) FROM partners").fetchall() == [(11,)]
    moved = tmp_path / "moved"
    os.rename(assets, moved)
    try:
        with connect(moved) as connection:
            assert connection.execute("SELECT count(*) FROM partners").fetchall() == [(11,)]
    finally:
        os.rename(moved, assets)


def test_the_manifest_names_every_table_and_the_dictionary_lists_them(assets):
    manifest = current_manifest(assets)
    assert set(manifest["tables"]) == set(published_tables())
    text = (assets / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^### `(\w+)`", text, re.M))
    assert listed == set(published_tables())
    for heading in ("Connect your tool", "Power BI", "Superset", "Evidence", "manifest"):
        assert heading in text
