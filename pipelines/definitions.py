"""The code location: one ``Definitions`` object, loaded by ``workspace.yaml``."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.indicators.indicator_assets import indicators
from pipelines.defs.intake.ingest_assets import (
    ingest_chunks,
    ingest_submissions,
    submission,
    submitted_by_deadline,
    workbook_accepted,
)
from pipelines.defs.intake.reference_assets import reference_tables
from pipelines.defs.io_managers import TableIOManager
from pipelines.defs.operations.automation import daily_ingest, raw_files_sensor
from pipelines.defs.operations.executor import one_writer_executor
from pipelines.defs.operations.jobs import ingest_everything
from pipelines.defs.operations.run_retention import prune_runs_job, weekly_run_retention
from pipelines.defs.publication.output_assets import (
    coordinator_summary,
    data_dictionary,
    partner_feedback,
    progress_report,
)
from pipelines.defs.publication.publish_assets import (
    history_tables,
    publication,
    published_submissions,
)
from pipelines.defs.resources import configured_paths
from pipelines.defs.review.decisions import review_decisions_sensor, review_submission, reviews

# One place says where everything lives (environment variables, read when a run
# starts); the IO manager takes its folder from it.
paths = configured_paths()

assets = [
    reference_tables,
    submission,
    ingest_submissions,
    *ingest_chunks,
    published_submissions,
    reviews,
    indicators,
    progress_report,
    coordinator_summary,
    partner_feedback,
    data_dictionary,
    history_tables,
    publication,
]
asset_checks = [workbook_accepted, submitted_by_deadline]
# Run retention keeps the latest evaluation of every check of the location.
check_keys = {
    key
    for definition in [*assets, *asset_checks]
    if isinstance(definition, dg.AssetsDefinition)
    for key in definition.check_keys
}

defs = dg.Definitions(
    assets=assets,
    asset_checks=asset_checks,
    jobs=[ingest_everything, review_submission, prune_runs_job(check_keys)],
    sensors=[raw_files_sensor, review_decisions_sensor],
    schedules=[daily_ingest, weekly_run_retention],
    resources={"paths": paths, "table_io": TableIOManager(paths=paths)},
    # One process for the whole run by default (a step per process would cost seconds
    # each), under the state directory's writer lock whoever launches the run.
    executor=one_writer_executor,
)
