"""Issue 21: a failed run publishes nothing, on real files and a real Dagster instance.

Each test publishes once cleanly, then makes a later run fail: before its publication
(after the steps that used to write feedback, the data dictionary and a snapshot), half
way through it, or at a document after it. Short of the last, the assets folder must
then be as it was (every file's bytes, and its modification time when nothing was
promoted), with no snapshot folder lacking a manifest; and the failure must say which
step failed and whether anything was published."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.app.run import run_everything
from pipelines.core.metadata.tables import published_tables
from pipelines.core.outputs.manifest import (
    HISTORY_DIR,
    MANIFEST,
    current_manifest,
    snapshot_dir,
    snapshots,
)
from pipelines.core.reference.loader import DEFAULT_PROJECT_DIR
from pipelines.platform import files as publish
from tests.helpers.dagster import memory_dir
from tests.helpers.workbooks import GOOD_ROWS, make_workbook

REPO = Path(__file__).resolve().parents[2]
# An indicator the computations do not know: today the indicators step fails on it; a
# loader that refuses it fails the run earlier. Either way the run publishes nothing.
UNKNOWN_INDICATOR = (
    "O3,Solutions taken up,output,solutions,5,,solutions_taken_up,,,,,,,,,taken up\n"
)
BAD_EVENT = {**GOOD_ROWS["Events"], "event_ref": "EV-BAD", "event_type": "not_a_type"}


def _files(assets: Path) -> dict[str, tuple[str, int]]:
    """Every file under the assets folder: its SHA-256 and modification time (a file
    rewritten with the same bytes is still a write)."""
    return {
        path.relative_to(assets).as_posix(): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in sorted(assets.rglob("*"))
        if path.is_file()
    }


def _unfinished_snapshots(assets: Path) -> list[str]:
    history = assets / HISTORY_DIR
    return [f.name for f in history.iterdir() if not (f / MANIFEST).exists()]


def _first_run(raw: Path, instance: dg.DagsterInstance, assets: Path) -> dict:
    """A clean run whose documents include a partner's feedback workbook."""
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"], BAD_EVENT]})
    assert run_everything(instance).success
    assert (assets / "feedback" / "P4" / "RP07.xlsx").exists()
    assert (assets / "README.md").exists()
    return _files(assets)


def _fail_at_the_indicators(target: Path) -> None:
    """A fault hook: the indicators step cannot write the scorecard into its snapshot."""
    if target.name == "indicator_scorecard.parquet" and target.parent.parent.name == HISTORY_DIR:
        raise OSError(errno.EIO, "Input/output error")


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A Dagster home of its own, as ``clusterix run`` uses it."""
    with memory_dir() as folder:
        monkeypatch.setenv("DAGSTER_HOME", str(folder))
        yield folder


def _clusterix_run(env: dict[str, str]) -> subprocess.CompletedProcess:
    """``clusterix run`` in a process of its own, on this checkout's code."""
    return subprocess.run(
        [sys.executable, "-m", "pipelines.app.cli", "run"],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_run_failing_at_an_unknown_indicator_publishes_nothing(dirs, home, tmp_path):
    raw, assets = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"], BAD_EVENT]})
    first = _clusterix_run({})
    assert first.returncode == 0, first.stderr
    assert (assets / "feedback" / "P4" / "RP07.xlsx").exists()
    before = _files(assets)

    project = shutil.copytree(DEFAULT_PROJECT_DIR, tmp_path / "project")
    with (project / "indicators.csv").open("a", encoding="utf-8") as indicators:
        indicators.write(UNKNOWN_INDICATOR)
    make_workbook(raw, "P1", "RP02", {"Events": [BAD_EVENT]})  # would get feedback
    failed = _clusterix_run({"CLUSTERIX_PROJECT_DIR": str(project)})

    assert failed.returncode != 0
    assert _files(assets) == before
    assert _unfinished_snapshots(assets) == []


def test_a_failed_run_says_which_step_failed_and_that_nothing_was_published(
    dirs, home, instance, monkeypatch, capsys
):
    from pipelines.app.cli import main

    raw, assets = dirs
    before = _first_run(raw, instance, assets)
    published = current_manifest(assets)["run_id"]
    make_workbook(raw, "P1", "RP02", {"Events": [BAD_EVENT]})
    monkeypatch.setattr(publish, "fault_hook", _fail_at_the_indicators)
    capsys.readouterr()  # the first run's log

    assert main(["run"]) == 1

    (error,) = capsys.readouterr().err.strip().splitlines()
    assert error.startswith("error: step indicators failed: ")
    assert "indicator_scorecard.parquet" in error
    assert error.endswith(
        "(nothing was published: the previous tables, report, feedback and data dictionary"
        " are unchanged)"
    )
    assert _files(assets) == before
    assert [run_id for run_id, _ in snapshots(assets)] == [published]
    assert _unfinished_snapshots(assets) == []


def test_a_publication_that_fails_half_way_puts_back_the_tables_it_promoted(
    dirs, instance, monkeypatch
):
    raw, assets = dirs
    before = {name: sha for name, (sha, _) in _first_run(raw, instance, assets).items()}
    make_workbook(raw, "P1", "RP02", {"Events": [BAD_EVENT]})
    last = assets / f"{list(published_tables())[-1]}.parquet"
    promoted = []

    def fail_at_the_last_promotion(target: Path) -> None:
        promoted.append(target)
        if target == last:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(publish, "fault_hook", fail_at_the_last_promotion)
    result = run_everything(instance)

    assert not result.success
    assert result.is_node_failed("publication")
    assert len({t for t in promoted if t.parent == assets}) > 1, "some tables were promoted"
    assert {name: sha for name, (sha, _) in _files(assets).items()} == before
    assert _unfinished_snapshots(assets) == []
    assert len(snapshots(assets)) == 1


def test_a_document_that_fails_after_the_publication_is_reported_as_such(
    dirs, home, instance, capsys
):
    from pipelines.app.cli import main

    raw, assets = dirs
    _first_run(raw, instance, assets)
    shutil.rmtree(assets / "report")
    (assets / "report").write_text("a file where the report's folder should be")
    make_workbook(raw, "P1", "RP02", {"Events": [BAD_EVENT]})
    capsys.readouterr()  # the first run's log

    assert main(["run"]) == 1

    (error,) = capsys.readouterr().err.strip().splitlines()
    assert error.startswith("error: step progress_report failed: ")
    assert error.endswith("(this run's tables were published, not all of its documents)")
    assert len(snapshots(assets)) == 2


def _ingest_job() -> dg.JobDefinition:
    from pipelines.definitions import defs
    from pipelines.defs.operations.jobs import INGEST_JOB

    return defs.resolve_job_def(INGEST_JOB)


def test_a_run_the_ui_or_the_sensor_launches_discards_its_unpublished_snapshot(
    dirs, instance, monkeypatch
):
    raw, assets = dirs
    before = _first_run(raw, instance, assets)
    make_workbook(raw, "P1", "RP02", {"Events": [BAD_EVENT]})
    monkeypatch.setattr(publish, "fault_hook", _fail_at_the_indicators)

    # The code location's own executor, as a launched run uses it (not execute_in_process).
    with dg.execute_job(
        dg.reconstructable(_ingest_job), instance=instance, raise_on_error=False
    ) as result:
        assert not result.success
        assert not snapshot_dir(assets, result.run_id).exists()
    assert _files(assets) == before


def test_a_snapshot_a_killed_run_left_without_a_manifest_is_removed_by_the_next_run(dirs, instance):
    raw, assets = dirs
    _first_run(raw, instance, assets)
    published = current_manifest(assets)["run_id"]
    left = snapshot_dir(assets, "killed-run")
    shutil.copytree(snapshot_dir(assets, published), left)
    (left / MANIFEST).unlink()

    assert run_everything(instance).success  # nothing new: the run publishes nothing

    assert not left.exists()
    assert [run_id for run_id, _ in snapshots(assets)] == [published]
