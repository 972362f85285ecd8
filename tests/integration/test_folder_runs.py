"""Issue 17 items 1 and 2, exactly as a partner does them, through ``clusterix run``.

P4's bundled workbooks are the drop folder; a copy of an accepted workbook, or a
second version beside it, is put in and taken out again, with a run after each step.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from pipelines.app.run import run_pipeline
from pipelines.core.metadata.tables import (
    EVENTS,
    REPORTING_RATES,
    SUBMISSION_COMPLETENESS,
    SUBMISSIONS,
    VALIDATION_ISSUES,
)
from pipelines.core.outputs.parquet import read_parquet
from tests.helpers.dagster import memory_dir
from tests.helpers.workbooks import event_row, make_workbook

BUNDLED_P4 = Path(__file__).resolve().parents[2] / "raw" / "P4"


@pytest.fixture
def p4(dirs, monkeypatch) -> Path:
    """P4's bundled folder as the drop folder, with a Dagster home of its own."""
    raw, _ = dirs
    shutil.copytree(BUNDLED_P4, raw / "P4")
    with memory_dir() as home:
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        yield raw / "P4"


def _run(capsys, assets: Path) -> tuple[str, dict[str, pd.DataFrame]]:
    """``clusterix run``, what it printed, and the tables it published."""
    assert run_pipeline() == 0
    printed = capsys.readouterr().out
    tables = (SUBMISSIONS, VALIDATION_ISSUES, SUBMISSION_COMPLETENESS, REPORTING_RATES, EVENTS)
    return printed, {t.name: read_parquet(t, assets) for t in tables}


def _rp07(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[(frame["partner_id"] == "P4") & (frame["period_id"] == "RP07")]


def _p4_rate(tables: dict[str, pd.DataFrame]) -> Decimal:
    rates = tables["reporting_rates"]
    return rates.loc[rates["category"] == "P4", "reporting_rate"].iloc[0]


def _assert_rp07_accepted_from(
    tables: dict[str, pd.DataFrame], file: str, status: str = "accepted"
) -> None:
    """P4 RP07 counts as received on time from ``file``, whose row has ``status`` (rejected
    while another workbook for the period is beside it)."""
    completeness = _rp07(tables["submission_completeness"]).iloc[0]
    assert (completeness["status"], completeness["received"]) == ("on_time", 1)
    assert _p4_rate(tables) == Decimal("100.00")
    submissions = _rp07(tables["submissions"])
    current = submissions[submissions["current"].astype(bool)]
    assert list(current["file"]) == [file] and list(current["status"]) == [status]
    assert set(_rp07(tables["events"])["file"]) == {file}


def test_a_copy_of_an_accepted_workbook_put_in_and_taken_out_leaves_no_damage(p4, dirs, capsys):
    _, assets = dirs
    printed, clean = _run(capsys, assets)
    _assert_rp07_accepted_from(clean, "P4/RP07.xlsx")

    shutil.copyfile(p4 / "RP07.xlsx", p4 / "P4_RP07.xlsx")  # the name the template suggests
    shutil.copyfile(p4 / "RP07.xlsx", p4 / "RP07.XLSX")  # three identical copies
    printed, copied = _run(capsys, assets)
    for name in ("P4/RP07.xlsx", "P4/P4_RP07.xlsx", "P4/RP07.XLSX"):
        assert f"  {name}: P4 has 3 workbooks for RP07" in printed
    # Each copy has its own row and its own open refusal, none lost to another's bytes.
    submissions = _rp07(copied["submissions"]).set_index("file")
    assert sorted(submissions.index) == ["P4/P4_RP07.xlsx", "P4/RP07.XLSX", "P4/RP07.xlsx"]
    assert set(submissions["status"]) == {"rejected"} and set(submissions["n_errors"]) == {1}
    assert submissions.loc["P4/RP07.xlsx", "current"]  # still what the tables use
    issues = _rp07(copied["validation_issues"])
    several = issues[issues["rule"] == "several_workbooks"]
    assert sorted(several["file"]) == sorted(submissions.index)
    assert several["is_open"].all()
    completeness = _rp07(copied["submission_completeness"]).iloc[0]
    assert (completeness["status"], completeness["received"]) == ("on_time", 1)

    (p4 / "P4_RP07.xlsx").unlink()
    (p4 / "RP07.XLSX").unlink()
    printed, after = _run(capsys, assets)
    assert "Rejected workbooks" not in printed
    _assert_rp07_accepted_from(after, "P4/RP07.xlsx")
    # The copies' history stays, closed; the accepted version's row is there again.
    history = _rp07(after["submissions"]).set_index("file")
    assert history.loc["P4/RP07.xlsx", "status"] == "accepted"
    assert not history.loc[["P4/P4_RP07.xlsx", "P4/RP07.XLSX"], "in_folder"].any()
    issues = _rp07(after["validation_issues"])
    assert not issues.loc[issues["rule"] == "several_workbooks", "is_open"].any()


def test_two_workbooks_for_one_period_clear_when_one_is_removed(p4, dirs, capsys):
    _, assets = dirs
    _run(capsys, assets)
    newer = [event_row("EV-NEW", "regional_stakeholder_meeting", dt.date(2020, 1, 20))]
    written = make_workbook(p4.parent, "P4", "RP07", {"Events": newer}, suffix=".XLSX")
    assert written.name == "RP07.XLSX"

    printed, both = _run(capsys, assets)
    assert "P4/RP07.XLSX: P4 has 2 workbooks for RP07" in printed
    # The last accepted version is used meanwhile, refused as long as the other is there.
    _assert_rp07_accepted_from(both, "P4/RP07.xlsx", status="rejected")

    (p4 / "RP07.xlsx").unlink()  # as the message asks
    printed, after = _run(capsys, assets)
    assert "Rejected workbooks" not in printed
    _assert_rp07_accepted_from(after, "P4/RP07.XLSX")
    assert list(_rp07(after["events"])["event_ref"]) == ["EV-NEW"]
    open_issues = _rp07(after["validation_issues"])
    open_issues = open_issues[open_issues["is_open"].astype(bool)]
    assert not open_issues["message"].str.contains("P4/RP07.xlsx", regex=False).any()
