"""The job every run is: the whole graph, unpartitioned, and what a run of it selects.

Its ingest step finds out which files are new or changed and reports the partitions of
those files only, so a run after one changed workbook does the work of one workbook,
and a run when nothing changed does none. The reference tables are written only when
the project folder (or the code) changed since the published set: every other run
leaves them out, and the publication carries the published ones into its snapshot.
"""

from collections.abc import Iterable

import dagster as dg

from pipelines.core.metadata.tables import REFERENCE_TABLES
from pipelines.core.outputs.manifest import still_published
from pipelines.core.reference.loader import reference
from pipelines.platform.settings import Settings
from pipelines.platform.storage import is_remote

INGEST_JOB = "ingest_everything"
REFERENCE_KEYS = [dg.AssetKey(t.name) for t in REFERENCE_TABLES]

ingest_everything = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.all(),
    description=(
        "Ingest the new and changed workbooks of the drop folder and rebuild every"
        " published table, indicator, report and feedback workbook (the reference tables"
        " when the project folder changed)."
    ),
)


def run_selection(job_keys: Iterable[dg.AssetKey], settings: Settings) -> list[dg.AssetKey] | None:
    """The assets a run of the job materialises: all of them (None) when the reference
    tables must be published again, else all but the reference tables. With the assets
    on object storage the local copy may be behind the bucket: the run writes them all."""
    if is_remote(settings.assets) or not still_published(
        settings.assets_dir, reference().folder, REFERENCE_TABLES
    ):
        return None
    return [key for key in job_keys if key not in REFERENCE_KEYS]
