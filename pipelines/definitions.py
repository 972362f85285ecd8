"""The code location: one ``Definitions`` object, loaded by ``workspace.yaml``."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.automation import daily_ingest, ingest_everything, raw_files_sensor
from pipelines.defs.indicator_assets import (
    indicator_assets,
    indicator_breakdown_asset,
    indicator_progress_asset,
    indicator_scorecard_asset,
    reporting_rates_asset,
    stakeholder_meeting_floor_asset,
    submission_completeness_asset,
)
from pipelines.defs.ingest_assets import submission, unattributed_files
from pipelines.defs.io_managers import StateIOManager, TableIOManager
from pipelines.defs.output_assets import data_dictionary, partner_feedback, progress_report
from pipelines.defs.publish_assets import publication, published_submissions
from pipelines.defs.reference_assets import reference_assets
from pipelines.defs.resources import ClusterixPaths
from pipelines.defs.review import review_decisions_sensor, review_submission, reviews

# One place says where everything lives (the environment, read when a run starts);
# the IO managers take their folders from it.
paths = ClusterixPaths()

defs = dg.Definitions(
    assets=[
        *reference_assets,
        submission,
        unattributed_files,
        published_submissions,
        reviews,
        *indicator_assets,
        indicator_scorecard_asset,
        indicator_breakdown_asset,
        indicator_progress_asset,
        submission_completeness_asset,
        reporting_rates_asset,
        stakeholder_meeting_floor_asset,
        progress_report,
        partner_feedback,
        data_dictionary,
        publication,
    ],
    jobs=[ingest_everything, review_submission],
    sensors=[raw_files_sensor, review_decisions_sensor],
    schedules=[daily_ingest],
    resources={
        "paths": paths,
        "table_io": TableIOManager(paths=paths),
        "state_io": StateIOManager(paths=paths),
    },
    # One process for the whole run: a step per process would cost seconds each.
    executor=dg.in_process_executor,
)
