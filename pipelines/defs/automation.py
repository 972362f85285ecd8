"""How work starts: the job, the sensor on the drop folder and the daily schedule."""

import json

import dagster as dg

from pipelines.core import config
from pipelines.core.discovery import discover
from pipelines.core.ingest import fingerprint
from pipelines.core.reference import reference
from pipelines.defs.partitions import all_partitions_tags, partition_key

INGEST_JOB = "ingest_everything"

ingest_everything = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.all(),
    description=(
        "Ingest the submissions of the selected partitions and rebuild every published"
        " table, indicator, report and feedback workbook."
    ),
)


@dg.sensor(
    job=ingest_everything,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a run for each new or changed workbook in the drop folder.",
)
def raw_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """One run request per new or changed file; the run key holds its SHA-256.

    The cursor remembers the SHA-256 of every file already requested, so an unchanged
    file is not requested again; and because Dagster never launches two runs with the
    same key, even a lost cursor cannot make an unchanged file run twice.
    """
    ref = reference()
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    requests = []
    for candidate in discover(config.raw_dir()):
        attributable = (
            candidate.partner_id in ref.partner_ids and candidate.period_id in ref.period_ids
        )
        sha = fingerprint(candidate)
        if not attributable or not sha or seen.get(candidate.file) == sha:
            continue
        seen[candidate.file] = sha
        requests.append(
            dg.RunRequest(
                run_key=f"{candidate.file}:{sha}",
                partition_key=partition_key(candidate.partner_id, candidate.period_id),
                tags={"clusterix/file": candidate.file, "clusterix/sha256": sha},
            )
        )
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))


@dg.schedule(
    job=ingest_everything,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily: one run over every partner x period (unchanged files are skipped).",
)
def daily_ingest(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=context.scheduled_execution_time.isoformat(), tags=all_partitions_tags()
    )
