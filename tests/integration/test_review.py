"""The review workflow end to end: the CLI and the Launchpad job, a real Dagster instance,
real workbooks, the published tables and the partner's feedback workbook read back."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import dagster as dg
import openpyxl
import pandas as pd
import pytest

from pipelines.app.cli import main
from pipelines.app.run import run_everything
from pipelines.core.metadata.tables import (
    INDICATOR_SCORECARD,
    POLICY_MEASURES,
    REVIEWS,
    SUBMISSION_COMPLETENESS,
    SUBMISSIONS,
    VALIDATION_ISSUES,
)
from pipelines.core.outputs.parquet import read_parquet
from pipelines.core.reference.loader import reference
from pipelines.core.state.review import Ledger, ledger_path, record
from pipelines.definitions import defs
from pipelines.defs.review.decisions import REVIEW_JOB, review_decisions_sensor
from tests.helpers.workbooks import GOOD_ROWS, make_workbook

MEASURE = GOOD_ROWS["PolicyMeasures"]


def _drop(raw: Path, sf: str, participants: int = 30) -> Path:
    """P4's RP07 workbook with one implemented measure worth ``sf`` EUR."""
    return make_workbook(
        raw,
        "P4",
        "RP07",
        {
            "Events": [{**GOOD_ROWS["Events"], "participants": participants}],
            "PolicyMeasures": [{**MEASURE, "sf_influenced_eur": Decimal(sf)}],
        },
    )


def _state(assets: Path) -> Path:
    return assets.parent / "state"


def _scorecard(assets: Path, indicator: str = "R3") -> tuple[object, object]:
    card = read_parquet(INDICATOR_SCORECARD, assets).set_index("indicator_id")
    return card.loc[indicator, "achieved"], card.loc[indicator, "achieved_approved"]


def _review_status(assets: Path) -> set[str]:
    subs = read_parquet(SUBMISSIONS, assets)
    return set(subs.loc[subs["partner_id"] == "P4", "review_status"])


def _current(assets: Path) -> pd.Series:
    subs = read_parquet(SUBMISSIONS, assets)
    return subs[subs["current"].astype(bool)].iloc[0]


def _ledger_bytes(assets: Path) -> bytes | None:
    path = ledger_path(_state(assets))
    return path.read_bytes() if path.exists() else None


def test_approve_locks_reopen_unlocks_and_the_approved_column_follows(dirs, instance, capsys):
    raw, assets = dirs
    _drop(raw, "1000.50")
    assert run_everything(instance).success
    assert _scorecard(assets) == (Decimal("1000.50"), Decimal("0.00")), "nothing approved yet"
    assert _review_status(assets) == {"pending"}
    approved_sha = _current(assets)["sha256"]

    assert main(["review", "approve", "P4", "RP07", "--by", "Anna", "--note", "minutes"]) == 0
    assert "locked" in capsys.readouterr().out
    (entry,) = Ledger.read(_state(assets)).decisions
    assert (entry.decided_by, entry.decision, entry.note) == ("Anna", "approve", "minutes")
    assert entry.sha256 == approved_sha and entry.decided_at.endswith("+00:00")

    assert run_everything(instance).success
    assert _review_status(assets) == {"approved"}
    assert _scorecard(assets) == (Decimal("1000.50"), Decimal("1000.50"))
    reviews = read_parquet(REVIEWS, assets)
    assert list(reviews["decision"]) == ["approve"] and list(reviews["review_no"]) == [1]
    completeness = read_parquet(SUBMISSION_COMPLETENESS, assets).set_index(
        ["partner_id", "period_id"]
    )
    assert completeness.loc[("P4", "RP07"), "review_status"] == "approved"
    assert completeness.loc[("P1", "RP07"), "review_status"] is None
    report = (assets / "report" / "progress_report.html").read_text()
    assert "review: approved" in report and "✓<br><small>approved</small>" in report

    # A later file for the locked partner-period: archived, refused, nothing published changes.
    corrected = _drop(raw, "2000.00", participants=45)
    assert run_everything(instance).success
    subs = read_parquet(SUBMISSIONS, assets)
    assert list(subs["status"]) == ["accepted", "rejected"]
    assert subs.loc[subs["current"].astype(bool), "sha256"].tolist() == [approved_sha]
    issues = read_parquet(VALIDATION_ISSUES, assets)
    (locked,) = issues[issues["rule"] == "period_locked"].itertuples()
    assert locked.severity == "error" and "ask the coordinator to reopen" in locked.message
    assert list(read_parquet(POLICY_MEASURES, assets)["sf_influenced_eur"]) == [Decimal("1000.50")]
    assert _scorecard(assets) == (Decimal("1000.50"), Decimal("1000.50"))
    archived = {p.stem for p in (_state(assets) / "archive").rglob("*.xlsx")}
    assert subs["sha256"].iloc[1] in archived
    grid = instance.get_latest_materialization_event(dg.AssetKey("submission_states"))
    assert ", approved |" in grid.asset_materialization.metadata["submissions"].value

    # Reopen: the file the lock refused is read at the next run and its figure published.
    assert main(["review", "reopen", "P4", "RP07", "--by", "Anna"]) == 0
    assert run_everything(instance).success
    subs = read_parquet(SUBMISSIONS, assets)
    assert list(subs["status"]) == ["accepted", "accepted"]
    assert _current(assets)["file"] == corrected.relative_to(raw).as_posix()
    assert list(read_parquet(POLICY_MEASURES, assets)["sf_influenced_eur"]) == [Decimal("2000.00")]
    assert _scorecard(assets) == (Decimal("2000.00"), Decimal("0.00"))
    assert _review_status(assets) == {"pending"}, "a new version is in use since the reopen"
    assert "period_locked" not in set(read_parquet(VALIDATION_ISSUES, assets)["rule"])

    assert main(["review", "approve", "P4", "RP07", "--by", "Ben"]) == 0
    assert run_everything(instance).success
    assert _scorecard(assets) == (Decimal("2000.00"), Decimal("2000.00"))
    assert list(read_parquet(REVIEWS, assets)["decision"]) == ["approve", "reopen", "approve"]
    (partition,) = instance.fetch_materializations(
        dg.AssetRecordsFilter(dg.AssetKey("submission"), asset_partitions=["P4|RP07"]), limit=1
    ).records
    assert partition.asset_materialization.metadata["review status"].value == "approved"

    assert main(["review", "list", "P4"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("P4 RP07") >= 3 and "P4 RP07 now: approved" in listing


def _summary_cells(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path)
    first = book.worksheets[0]
    return [str(c.value) for row in first.iter_rows() for c in row if c.value is not None]


def test_send_back_puts_the_note_in_the_feedback_workbook_until_a_new_version(dirs, instance):
    raw, assets = dirs
    _drop(raw, "1000.50")
    assert run_everything(instance).success
    feedback = assets / "feedback" / "P4" / "RP07.xlsx"
    assert not feedback.exists(), "no issues, no feedback workbook"

    note = "R3: the minutes say EUR 1,500.00; please correct the amount"
    assert main(["review", "send-back", "P4", "RP07", "--note", note, "--by", "Anna"]) == 0
    assert run_everything(instance).success
    assert note in _summary_cells(feedback), "the note is on the first sheet"
    assert _review_status(assets) == {"sent_back"}
    assert _scorecard(assets)[1] == Decimal("0.00"), "sent back is not approved"

    _drop(raw, "1500.00")
    assert run_everything(instance).success
    assert _review_status(assets) == {"pending"}
    assert not feedback.exists(), "the new version has no issues and is not sent back"


def test_the_launchpad_job_records_and_the_sensor_republishes(dirs, instance):
    raw, assets = dirs
    _drop(raw, "1000.50")
    assert run_everything(instance).success
    job = defs.resolve_job_def(REVIEW_JOB)

    def launch(**fields: str) -> dg.ExecuteInProcessResult:
        config = {"ops": {"record_review_decision": {"config": fields}}}
        return job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)

    refused = launch(decision="reopen", partner="P4", period="RP07", by="Anna")
    assert not refused.success
    error = refused.failure_data_for_node("record_review_decision").error
    assert "not locked" in error.message
    assert error.cause is None and len(error.message.strip().splitlines()) == 1, "one line"
    assert _ledger_bytes(assets) is None
    # every field has a default (the Launchpad opens filled in): approve P1 RP01
    defaults = launch(by="Anna")
    error = defaults.failure_data_for_node("record_review_decision").error
    assert "P1 RP01 has no workbook version in use" in error.message
    # a partner that does not exist is refused by the form itself, before any run
    with pytest.raises(dg.DagsterInvalidConfigError, match="P12"):
        launch(decision="approve", partner="P12", period="RP07", by="Anna")

    assert launch(decision="approve", partner="P4", period="RP07", note="ok", by="Anna").success
    tick = review_decisions_sensor(dg.build_sensor_context(instance=instance))
    (request,) = tick.run_requests
    assert request.run_key.startswith("reviews:")
    again = review_decisions_sensor(dg.build_sensor_context(instance=instance, cursor=tick.cursor))
    assert again.run_requests == [], "the same ledger is published once"

    ingest = defs.resolve_job_def("ingest_everything")
    assert ingest.execute_in_process(instance=instance, tags=request.tags).success
    assert list(read_parquet(REVIEWS, assets)["decided_by"]) == ["Anna"]
    assert _review_status(assets) == {"approved"}


REFUSED = [
    (["approve", "P12", "RP07"], "unknown partner 'P12'"),
    (["approve", "P4", "RP99"], "unknown period 'RP99'"),
    (["approve", "P5", "RP07"], "P5 RP07 has no workbook version in use"),
    (["reopen", "P4", "RP07"], "P4 RP07 is not locked"),
    (["send-back", "P4", "RP07"], "needs a note"),
]


def test_decisions_that_cannot_stand_exit_non_zero_and_write_nothing(dirs, instance, capsys):
    raw, assets = dirs
    _drop(raw, "1000.50")
    assert run_everything(instance).success

    for argv, says in REFUSED:
        assert main(["review", *argv, "--by", "Anna"]) != 0, argv
        err = capsys.readouterr().err
        assert says in err and "nothing was recorded" in err, argv
        assert _ledger_bytes(assets) is None, argv

    assert main(["review", "approve", "P4", "RP07", "--by", "Anna"]) == 0
    recorded = _ledger_bytes(assets)
    assert main(["review", "approve", "P4", "RP07", "--by", "Anna"]) != 0
    assert "already approved" in capsys.readouterr().err
    assert _ledger_bytes(assets) == recorded


def test_the_console_script_refuses_an_approval_of_nothing(tmp_path):
    env = {**os.environ, "CLUSTERIX_STATE_DIR": str(tmp_path / "state")}
    clusterix = Path(sys.executable).with_name("clusterix")
    done = subprocess.run(
        [clusterix, "review", "approve", "P4", "RP07", "--by", "Anna"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "no workbook version in use" in done.stderr
    assert not (tmp_path / "state" / "reviews").exists()
    listed = subprocess.run(
        [clusterix, "review", "list"], env=env, capture_output=True, text=True, check=False
    )
    assert listed.returncode == 0 and "No review decisions" in listed.stdout


def _send_backs(state_dir: str, writer: int, count: int) -> None:
    for n in range(count):
        record(
            Path(state_dir),
            reference(),
            "send_back",
            "P4",
            "RP07",
            note=f"writer {writer} note {n} " + "x" * 2000,
            by=f"writer {writer}",
        )


def test_concurrent_decisions_are_whole_lines(dirs, instance):
    raw, assets = dirs
    _drop(raw, "1000.50")
    assert run_everything(instance).success
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_send_backs, args=(str(_state(assets)), w, 15)) for w in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    lines = ledger_path(_state(assets)).read_text().splitlines()
    assert len(lines) == 60
    assert {json.loads(line)["decided_by"] for line in lines} == {f"writer {w}" for w in range(4)}
