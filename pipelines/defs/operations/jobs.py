"""The job every run is: the whole graph, unpartitioned.

Its ingest step finds out which files are new or changed and reports the partitions of
those files only, so a run after one changed workbook does the work of one workbook,
and a run when nothing changed does none.
"""

import dagster as dg

INGEST_JOB = "ingest_everything"

ingest_everything = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.all(),
    description=(
        "Ingest the new and changed workbooks of the drop folder and rebuild every"
        " published table, indicator, report and feedback workbook."
    ),
)
