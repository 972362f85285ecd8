"""The bundled ``raw/`` through the real pipeline: exactly the flaws raw/README.md announces.

The README is what a coordinator trying the demo reads; this test holds the pipeline
(and the samples) to it, so a rule that starts firing on good sample rows, or a flaw
that stops being caught, is seen at once. The expectations are written out here from
the README rather than imported from the generator, so that they check it too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.app.run import run_everything
from pipelines.core.metadata.tables import (
    EVENTS,
    STAKEHOLDER_MEETING_FLOOR,
    SUBMISSIONS,
    VALIDATION_ISSUES,
)
from pipelines.core.outputs.parquet import read_parquet
from tests.helpers.dagster import dagster_instance

RAW = Path(__file__).parents[2] / "raw"

# raw/README.md, "Deliberately flawed files"
REJECTED = {("P7", "RP03"): "not_a_spreadsheet", ("P8", "RP07"): "partner_mismatch"}
QUARANTINED = {
    ("P2", "RP04", "Events", "wrong_type", "participants"),
    ("P6", "RP05", "Events", "not_in_enumeration", "event_type"),
    ("P9", "RP02", "Events", "end_before_start", "end_date"),
    ("P10", "RP06", "PolicyMeasures", "other_partners_instrument", "policy_instrument_id"),
    ("P9", "RP06", "PolicyMeasures", "sf_on_non_sf_instrument", "sf_influenced_eur"),
    ("P11", "RP08", "PolicyMeasures", "implemented_without_date", "implemented_on"),
}
# raw/README.md, "Valid, but worth a look"
LATE = {("P3", "RP02"), ("P10", "RP05"), ("P6", "RP08"), ("P2", "RP10")}
FLOOR_GAPS = {("P8", "RP02"), ("P3", "RP05")}
# P7 RP03's file is not a workbook: whether P7 met the floor then is unknown, not a gap
FLOOR_UNKNOWN = {("P7", "RP03")}
# Project meeting 5 (P1/RP04 and P6/RP04) and P1's online consortium meeting (P2/RP09):
# the earlier partner in partner order keeps counting, the other gets the warning.
DUPLICATES = {("P6", "RP04"), ("P2", "RP09")}
FORMULA_TITLE = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("bundled")
    raw, assets = base / "raw", base / "assets"
    shutil.copytree(RAW, raw)
    mp = pytest.MonkeyPatch()
    mp.setenv("CLUSTERIX_RAW_DIR", str(raw))
    mp.setenv("CLUSTERIX_ASSETS_DIR", str(assets))
    mp.setenv("CLUSTERIX_STATE_DIR", str(base / "state"))
    with dagster_instance() as instance:
        assert run_everything(instance).success
    yield assets
    mp.undo()


def test_every_expected_workbook_is_there_and_only_the_announced_ones_are_rejected(published):
    submissions = read_parquet(SUBMISSIONS, published)
    assert len(submissions) == 118
    rejected = submissions[submissions["status"] == "rejected"]
    assert set(zip(rejected["partner_id"], rejected["period_id"], strict=True)) == set(REJECTED)
    issues = read_parquet(VALIDATION_ISSUES, published)
    for (partner, period), rule in REJECTED.items():
        mine = issues[(issues["partner_id"] == partner) & (issues["period_id"] == period)]
        assert list(mine["rule"]) == [rule], (partner, period)


def test_only_the_announced_rows_are_quarantined(published):
    issues = read_parquet(VALIDATION_ISSUES, published)
    errors = issues[(issues["severity"] == "error") & (issues["sheet"] != "Cover")]
    errors = errors[errors["sheet_row"].notna()]
    found = set(
        zip(
            errors["partner_id"],
            errors["period_id"],
            errors["sheet"],
            errors["rule"],
            errors["sheet_column"],
            strict=True,
        )
    )
    assert found == QUARANTINED


def test_announced_warnings_and_no_others(published):
    issues = read_parquet(VALIDATION_ISSUES, published)
    warnings = issues[issues["severity"] == "warning"]
    duplicates = warnings[warnings["rule"] == "probable_duplicate"]
    assert set(zip(duplicates["partner_id"], duplicates["period_id"], strict=True)) == DUPLICATES
    outside = warnings[warnings["rule"] == "event_outside_period"]
    assert ("P3", "RP03") in set(zip(outside["partner_id"], outside["period_id"], strict=True))
    assert set(warnings["rule"]) <= {"probable_duplicate", "event_outside_period"}


def test_late_submissions_are_the_announced_ones(published):
    submissions = read_parquet(SUBMISSIONS, published)
    late = submissions[submissions["on_time"].eq(False)]
    assert set(zip(late["partner_id"], late["period_id"], strict=True)) == LATE
    accepted = submissions[submissions["status"] == "accepted"]
    assert accepted["on_time"].notna().all(), "every accepted workbook has its submission date"


def test_stakeholder_floor_gaps_are_the_announced_ones(published):
    floor = read_parquet(STAKEHOLDER_MEETING_FLOOR, published)
    met = floor["floor_met"].astype("boolean")
    gaps, unknown = floor[met.eq(False).fillna(False)], floor[met.isna()]
    assert set(zip(gaps["partner_id"], gaps["period_id"], strict=True)) == FLOOR_GAPS
    assert set(zip(unknown["partner_id"], unknown["period_id"], strict=True)) == FLOOR_UNKNOWN
    assert len(floor) == 60


def test_formula_like_title_stays_text(published):
    events = read_parquet(EVENTS, published)
    mine = events[(events["partner_id"] == "P4") & (events["period_id"] == "RP02")]
    assert FORMULA_TITLE in set(mine["title"])


def _feedback_issues(assets: Path) -> set[tuple[str, str, str, object, object]]:
    """(partner, period, file, sheet, row) of every issue listed in a feedback workbook."""
    found = set()
    for path in sorted((assets / "feedback").glob("P*/RP*.xlsx")):
        sheet = openpyxl.load_workbook(path)["Issues"]
        for row in sheet.iter_rows(min_row=2, values_only=True):
            found.add((path.parent.name, path.stem, row[0], row[1], row[2]))
    return found


def test_every_open_issue_reaches_its_partners_feedback_workbook(published):
    issues = read_parquet(VALIDATION_ISSUES, published)
    open_issues = issues[issues["is_open"].astype(bool) & issues["partner_id"].notna()]
    expected = {
        (r.partner_id, r.period_id, r.file, r.sheet, None if pd.isna(r.sheet_row) else r.sheet_row)
        for r in open_issues.itertuples()
    }
    assert {(p, q) for p, q, *_ in expected} >= DUPLICATES, "cross-partner warnings are open"
    assert _feedback_issues(published) == expected


def test_the_feedback_of_a_refused_workbook_says_nothing_is_in_use(published):
    summary = openpyxl.load_workbook(published / "feedback" / "P7" / "RP03.xlsx")["Summary"]
    facts = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row[0]}
    assert facts["Outcome"].startswith("Refused: your workbook P7/RP03.xlsx was not accepted,")
    assert "no workbook of yours is in use for RP03" in facts["Outcome"]
    assert "still the one used" not in " ".join(str(v) for v in facts.values())
    assert facts["Deadline"] == "2017-12-31"
