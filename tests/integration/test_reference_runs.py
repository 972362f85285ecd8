"""The reference tables are written when the project folder (or the code) changed since
the published set, and otherwise left out of a run and carried into its publication."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from pipelines.app.run import run_everything
from pipelines.core.metadata.tables import REFERENCE_TABLES
from pipelines.core.outputs.manifest import current_manifest, still_published
from pipelines.core.reference.loader import reference
from tests.helpers.workbooks import GOOD_ROWS, make_workbook


def _materialized(instance: dg.DagsterInstance, name: str) -> int:
    return len(instance.fetch_materializations(dg.AssetKey(name), limit=100).records)


def test_a_run_writes_the_reference_tables_only_when_the_project_changed(
    dirs, instance, tmp_path: Path
):
    raw, assets = dirs
    make_workbook(raw, "P4", "RP07", {"Events": [GOOD_ROWS["Events"]]})
    assert run_everything(instance).success
    make_workbook(raw, "P4", "RP07", {"Events": [{**GOOD_ROWS["Events"], "participants": 31}]})
    assert run_everything(instance).success

    # The second run rebuilt the events, not the reference tables ...
    assert (_materialized(instance, "events"), _materialized(instance, "partners")) == (2, 1)
    # ... which its publication carried into its own snapshot, complete and stamped.
    manifest = current_manifest(assets)
    assert set(manifest["tables"]) >= {t.name for t in REFERENCE_TABLES}
    stamped = pq.read_metadata(assets / "partners.parquet").metadata[b"run_id"].decode()
    assert stamped == manifest["run_id"]

    # A project folder that differs from the one published asks for them again.
    folder = tmp_path / "project"
    shutil.copytree(reference().folder, folder)
    assert still_published(assets, folder, REFERENCE_TABLES)
    with (folder / "periods.csv").open("a", encoding="utf-8") as csv:
        csv.write("\n")
    assert not still_published(assets, folder, REFERENCE_TABLES)
