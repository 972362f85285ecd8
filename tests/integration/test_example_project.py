"""The second bundled project, Circular Valleys, run from its folder with known answers.

Its workbooks (examples/circular-valleys/raw, written by scripts/write_example.py from
a plan laid out record by record) give figures counted by hand from that plan: they
are written here as literals, not recomputed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipelines.core.metadata.tables import (
    INDICATOR_BREAKDOWN,
    INDICATOR_SCORECARD,
    STAKEHOLDER_MEETING_FLOOR,
    SUBMISSION_COMPLETENESS,
    VALIDATION_ISSUES,
)
from pipelines.core.outputs.parquet import read_parquet
from tests.helpers.dagster import memory_dir

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "circular-valleys"

# indicator: (target, achieved), from the plan in scripts/write_example.py
KNOWN = {
    "O1": ("14", "11"),
    # 6 workshops planned, one host each period; P6 sent no S6 workbook, so 5
    "O1.1": ("6", "5"),
    "O1.2": ("5", "4"),  # study visits of P2, P3, P5, P7
    "O1.3": ("3", "2"),  # peer reviews of P1 and P4
    # 6 partners x 6 core periods, P3 none in S4, P5 two in S2, P6's S6 missing: 35;
    # then S7 by P1..P5 (5) and S8 by P1, P3, P4, P5 (P2's S8 missing): 44
    "O2": ("42", "44"),
    "O3": ("5", "2"),
    "O4": ("12", "8"),  # 8 practices, each counted once at its latest stage
    "RCO87": ("10", "7"),  # Valley Energy Agency is behind two practices
    "RCO81": ("150", "142"),  # 30 + 25 + 28 + 32 + 27 participants (S6's missing)
    # The project's own Solutions sheet: P1's two, P3's and P6's (P2's was adopted in
    # S8, whose workbook P2 never sent)
    "RCR104": ("6", "4"),
    "JOBS": ("20", "12"),  # 3 + 5 + 4 (P3 wrote no figure)
    "R1": ("6", "5"),  # PI-P3b and PI-P4 have no implemented measure
}


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict[str, object]:
    """One `clusterix run` of the example project in a process of its own, as `make demo
    PROJECT=examples/circular-valleys` runs it (a process serves one project: its
    partitions are the project's partner-periods)."""
    base = tmp_path_factory.mktemp("example")
    shutil.copytree(EXAMPLE / "raw", base / "raw")
    with memory_dir() as home:
        env = {
            **os.environ,
            "CLUSTERIX_PROJECT_DIR": str(EXAMPLE),
            "CLUSTERIX_RAW_DIR": str(base / "raw"),
            "CLUSTERIX_ASSETS_DIR": str(base / "assets"),
            "CLUSTERIX_STATE_DIR": str(base / "state"),
            "DAGSTER_HOME": str(home),
        }
        run = subprocess.run(
            [sys.executable, "-m", "pipelines.app.cli", "run"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
    assert run.returncode == 0, run.stdout + run.stderr
    assets = base / "assets"
    tables = (
        INDICATOR_SCORECARD,
        INDICATOR_BREAKDOWN,
        SUBMISSION_COMPLETENESS,
        STAKEHOLDER_MEETING_FLOOR,
        VALIDATION_ISSUES,
    )
    frames: dict[str, object] = {t.name: read_parquet(t, assets) for t in tables}
    frames["solutions"] = pd.read_parquet(assets / "solutions.parquet")
    frames["solutions_schema"] = pq.read_schema(assets / "solutions.parquet")
    frames["dictionary"] = (assets / "README.md").read_text(encoding="utf-8")
    frames["printed"] = run.stdout
    frames["manifest"] = pd.DataFrame(json.loads((assets / "manifest.json").read_text())["sources"])
    return frames


def test_every_indicator_of_the_example_is_exact(published):
    scorecard = published["indicator_scorecard"].set_index("indicator_id")
    assert list(scorecard.index) == list(KNOWN)
    for indicator, (target, achieved) in KNOWN.items():
        row = scorecard.loc[indicator]
        assert (row["target"], row["achieved"]) == (Decimal(target), Decimal(achieved)), indicator


def test_a_partners_second_instrument_counts_in_its_own_right(published):
    breakdown = published["indicator_breakdown"]
    r1 = breakdown[(breakdown["indicator_id"] == "R1") & (breakdown["dimension"] == "partner")]
    assert dict(zip(r1["category"], r1["achieved"], strict=True))["P3"] == Decimal(1)
    instruments = breakdown[
        (breakdown["indicator_id"] == "R1") & (breakdown["dimension"] == "policy_instrument")
    ]
    assert set(instruments["category"]) == {
        "PI-P1",
        "PI-P2",
        "PI-P3a",
        "PI-P3b",
        "PI-P4",
        "PI-P5",
        "PI-P6",
    }


def test_the_phases_and_deadline_rule_of_the_example_decide_what_is_expected(published):
    completeness = published["submission_completeness"]
    expected = completeness[completeness["expected"] == 1]
    assert len(expected) == 7 * 6 + 5 * 2
    status = expected.groupby("status").size().to_dict()
    assert status == {"on_time": 49, "late": 1, "missing": 2}
    late = expected[expected["status"] == "late"]
    assert list(zip(late["partner_id"], late["period_id"], strict=True)) == [("P4", "S3")]
    not_expected = completeness[completeness["expected"] == 0]
    assert set(not_expected["partner_id"]) == {"P6", "P7"}
    assert set(not_expected["period_id"]) == {"S7", "S8"}


def test_the_declared_meeting_floor_is_the_examples_own(published):
    floor = published["stakeholder_meeting_floor"]
    assert len(floor) == 6 * 6  # partners with an instrument x core periods
    met = floor["floor_met"].astype("boolean")
    gaps, unknown = floor[met.eq(False).fillna(False)], floor[met.isna()]
    # P3 held none in S4; P6 sent no S6 workbook, so whether it met the floor is unknown
    assert list(zip(gaps["partner_id"], gaps["period_id"], strict=True)) == [("P3", "S4")]
    assert list(zip(unknown["partner_id"], unknown["period_id"], strict=True)) == [("P6", "S6")]
    assert (
        "Stakeholder-meeting floor (at least 1 stakeholder_group_meeting per partner and period"
        " of Core phase, interregional learning): 34 of 36 met; gaps: P3 S4; 1 unknown"
        in published["printed"]
    )


def test_a_value_the_project_does_not_list_is_refused_naming_what_it_lists(published):
    """P7's S2: a CLUSTERIX event type, and an uptake the Solutions sheet does not list."""
    issues = published["validation_issues"].set_index("sheet")
    assert sorted(issues.index) == ["Events", "Solutions"]
    event = issues.loc["Events", "message"]
    assert "project_meeting" in event
    assert "interregional_workshop, study_visit, peer_review" in event
    solution = issues.loc["Solutions"]
    assert (solution["rule"], solution["record_ref"]) == ("not_in_enumeration", "SOL1")
    assert "one of: taken_up, up_scaled" in solution["message"]


def test_the_manifest_hashes_the_project_folder_in_use(published):
    sources = published["manifest"]
    project = sources[sources["kind"] == "reference"]
    assert set(project["path"]) == {
        "project/project.yaml",
        "project/partners.yaml",
        "project/periods.csv",
        "project/policy_instruments.csv",
        "project/event_types.csv",
        "project/indicators.csv",
        "project/sheets.yaml",
    }


def test_a_sheet_of_the_projects_own_is_read_validated_and_published(published):
    """Solutions is declared in sheets.yaml only: its rows are read from the workbooks,
    typed as declared, published with their lineage, described in the dictionary, and
    counted by an indicator with a breakdown by its listed column."""
    solutions = published["solutions"].sort_values(["partner_id", "solution_ref"])
    assert list(zip(solutions["partner_id"], solutions["solution_ref"], strict=True)) == [
        ("P1", "SOL1"),
        ("P1", "SOL2"),
        ("P3", "SOL1"),
        ("P6", "SOL1"),
    ]
    assert str(solutions["adopted_on"].iloc[0]) == "2023-10-31"  # a date, as declared
    jobs = [None if pd.isna(v) else v for v in solutions["jobs_created"].astype("Int64")]
    assert jobs == [3, 5, None, 4]
    assert set(solutions["first_reported_period_id"]) == {"S4", "S6", "S5"}
    schema = published["solutions_schema"]
    assert (str(schema.field("adopted_on").type), str(schema.field("jobs_created").type)) == (
        "date32[day]",
        "int64",
    )
    breakdown = published["indicator_breakdown"]
    uptake = breakdown[
        (breakdown["indicator_id"] == "RCR104") & (breakdown["dimension"] == "uptake")
    ]
    assert dict(zip(uptake["category"], uptake["achieved"], strict=True)) == {
        "taken_up": Decimal(2),
        "up_scaled": Decimal(2),
    }
    assert "### `solutions`" in published["dictionary"]
    assert "Day the organisation decided to take the solution up." in published["dictionary"]
