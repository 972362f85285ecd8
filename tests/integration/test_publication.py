"""Run-level publication: snapshots, the manifest, and a crash at every write.

Whenever a run stops, ``assets/manifest.json`` must name one complete set of tables
whose files match their SHA-256, and the stable files must only change once the
run's whole set is in its snapshot.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipelines.app.run import run_everything
from pipelines.core.metadata.tables import PERIODS, published_tables
from pipelines.core.outputs.manifest import (
    MANIFEST,
    current_manifest,
    mismatches,
    publish_snapshot,
    snapshot_dir,
    snapshots,
)
from pipelines.core.outputs.parquet import run_id_of, write_parquet
from pipelines.core.outputs.warehouse import build_database, connect
from pipelines.core.reference.loader import reference
from pipelines.platform import files as publish
from tests.helpers.workbooks import GOOD_ROWS, make_workbook


class SimulatedCrash(BaseException):
    """Stands for the process being killed: nothing in the pipeline catches it."""


def crash_at(predicate):
    """A fault hook that crashes at the first write whose target satisfies ``predicate``."""
    seen = []

    def hook(target: Path) -> None:
        seen.append(target)
        if predicate(target):
            raise SimulatedCrash(str(target))

    return hook, seen


def assert_one_complete_set(assets: Path) -> dict:
    manifest = current_manifest(assets)
    assert manifest is not None
    assert set(manifest["tables"]) == set(published_tables())
    assert mismatches(assets, manifest) == []
    for entry in manifest["tables"].values():
        assert run_id_of(assets / entry["path"]) == manifest["run_id"]
    return manifest


def _participants(assets: Path) -> list[int]:
    return list(pq.read_table(assets / "events.parquet")["participants"].to_pylist())


def test_a_run_publishes_its_tables_as_one_set_and_keeps_the_previous_one(dirs, instance):
    raw, assets = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    assert run_everything(instance).success
    first = assert_one_complete_set(assets)
    assert first["generated_at"].endswith("+00:00")
    assert first["code_version"]
    sources = {s["path"]: s["sha256"] for s in first["sources"]}
    workbook = raw / "P4" / "RP07.xlsx"
    assert sources["raw/P4/RP07.xlsx"] == hashlib.sha256(workbook.read_bytes()).hexdigest()
    for name, entry in first["tables"].items():
        assert entry["path"] == f"history/{first['run_id']}/{name}.parquet"
        stable = assets / f"{name}.parquet"
        assert stable.read_bytes() == (assets / entry["path"]).read_bytes()
        assert run_id_of(stable) == first["run_id"]
        assert entry["rows"] == pq.ParquetFile(stable).metadata.num_rows
    snapshot_manifest = json.loads((snapshot_dir(assets, first["run_id"]) / MANIFEST).read_text())
    assert snapshot_manifest == first

    make_workbook(raw, "P4", "RP07", {"Events": [{**GOOD_ROWS["Events"], "participants": 77}]})
    assert run_everything(instance).success
    second = assert_one_complete_set(assets)
    assert second["run_id"] != first["run_id"]
    assert _participants(assets) == [77]
    assert [run_id for run_id, _ in snapshots(assets)] == [first["run_id"], second["run_id"]]

    # The previous run's snapshot is still there, whole, and answers as it did then.
    assert mismatches(assets, first) == []
    old_events = assets / first["tables"]["events"]["path"]
    assert duckdb.sql(f"SELECT participants FROM '{old_events}'").fetchall() == [(30,)]


def test_a_run_killed_at_any_write_leaves_the_published_set_whole(dirs, instance, monkeypatch):
    raw, assets = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    assert run_everything(instance).success
    first = assert_one_complete_set(assets)
    make_workbook(raw, "P4", "RP07", {"Events": [{**GOOD_ROWS["Events"], "participants": 88}]})

    history = assets / "history"
    crash_points = {
        "first table into the snapshot": lambda t: t.parent.parent == history,
        "the snapshot's manifest": lambda t: t.parent.parent == history and t.name == MANIFEST,
        "half-way through promotion": lambda t: t == assets / "periods.parquet",
        "the published manifest": lambda t: t == assets / MANIFEST,
    }
    for what, predicate in crash_points.items():
        hook, _ = crash_at(predicate)
        monkeypatch.setattr(publish, "fault_hook", hook)
        # The in-process executor records the "kill" as a failed step; a real one would
        # let it through: either way, nothing after the crash point was written.
        with contextlib.suppress(SimulatedCrash):
            assert not run_everything(instance).success, what
        published = assert_one_complete_set(assets)
        assert published["run_id"] == first["run_id"], what
        events = assets / published["tables"]["events"]["path"]
        assert pq.read_table(events)["participants"].to_pylist() == [30], what

    monkeypatch.setattr(publish, "fault_hook", None)
    assert run_everything(instance).success
    assert assert_one_complete_set(assets)["run_id"] != first["run_id"]
    assert _participants(assets) == [88]


def test_a_full_disk_is_reported_in_one_line_and_publishes_nothing(dirs, monkeypatch, capsys):
    from pipelines.app.cli import main

    raw, assets = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})

    def disk_full(target: Path) -> None:
        if target.name == "policy_measures.parquet":
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(publish, "fault_hook", disk_full)
    assert main(["run"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "policy_measures.parquet" in err
    assert "No space left on device" in err
    assert current_manifest(assets) is None
    assert not (assets / "events.parquet").exists(), "nothing promoted from a failed run"


def _stage(assets: Path, run_id: str, periods: pd.DataFrame) -> None:
    """Every table of a run in its snapshot: empty ones, plus ``periods`` as given."""
    folder = snapshot_dir(assets, run_id)
    for table in published_tables().values():
        frame = periods if table is PERIODS else pd.DataFrame()
        write_parquet(frame, table, folder, run_id=run_id)


def _publish(assets: Path, run_id: str, **options) -> dict:
    tables = list(published_tables().values())
    return publish_snapshot(
        assets,
        run_id,
        tables,
        [],
        after_promotion=lambda: build_database(assets, tables),
        **options,
    )


def test_publication_crashed_at_each_of_its_writes_leaves_one_whole_set(tmp_path, monkeypatch):
    assets = tmp_path / "assets"
    _stage(assets, "run-1", reference().periods)
    _publish(assets, "run-1")
    _stage(assets, "probe", reference().periods.head(3))
    hook, writes = crash_at(lambda target: False)
    monkeypatch.setattr(publish, "fault_hook", hook)
    _publish(assets, "probe")
    count = len(writes)
    assert count == len(published_tables()) + 3, "promotions, the database, two manifests"

    for index in range(count):
        run_id = f"crash-{index}"
        calls = iter(range(count))
        monkeypatch.setattr(publish, "fault_hook", None)
        _stage(assets, run_id, reference().periods.head(2))
        before = current_manifest(assets)["run_id"]
        hook, _ = crash_at(lambda target, i=index, c=calls: next(c) == i)
        monkeypatch.setattr(publish, "fault_hook", hook)
        with pytest.raises(SimulatedCrash):
            _publish(assets, run_id)
        after = assert_one_complete_set(assets)
        assert after["run_id"] == before, f"crash at write {index}"
        with connect(assets) as connection:  # the database is always a whole one
            assert connection.execute("SELECT count(*) FROM periods").fetchone()[0] in (2, 3, 11)


def test_retention_keeps_the_newest_snapshots_and_never_the_published_one(tmp_path):
    assets = tmp_path / "assets"
    for n in range(4):
        _stage(assets, f"run-{n}", reference().periods)
        _publish(assets, f"run-{n}", keep=2)
    assert [run_id for run_id, _ in snapshots(assets)] == ["run-2", "run-3"]
    assert assert_one_complete_set(assets)["run_id"] == "run-3"


def test_every_table_declares_a_primary_key_that_may_not_be_empty():
    # The generated schema (a blocking check before any table is written) then refuses
    # an empty or repeated key; the analyst suite checks the published files too.
    for table in published_tables().values():
        assert table.primary_key, table.name
        assert set(table.primary_key) <= table.required, table.name
