"""How work starts: the job, the sensor on the drop folder and the daily schedule."""

import hashlib
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
    description="Starts a run when workbooks in the drop folder are new or changed.",
)
def raw_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """A run for what changed since the last tick; its run key holds the SHA-256s.

    One changed file gives a run of its partition (run key ``file:sha256``). Several
    changed files in one tick (a first start, a partner dropping a whole year) give
    ONE run over every partition, in which unchanged files are skipped, rather than a
    run per file: a run costs seconds. The cursor remembers the SHA-256 of every file
    requested, so an unchanged file is not requested again; and because Dagster never
    launches two runs with the same key, a lost cursor cannot repeat a run either.
    """
    ref = reference()
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    changed = []
    for candidate in discover(config.raw_dir()):
        attributable = (
            candidate.partner_id in ref.partner_ids and candidate.period_id in ref.period_ids
        )
        sha = fingerprint(candidate)
        if attributable and sha and seen.get(candidate.file) != sha:
            seen[candidate.file] = sha
            changed.append((candidate, sha))
    cursor = json.dumps(seen, sort_keys=True)
    if not changed:
        return dg.SensorResult(run_requests=[], cursor=cursor)
    if len(changed) == 1:
        ((candidate, sha),) = changed
        request = dg.RunRequest(
            run_key=f"{candidate.file}:{sha}",
            partition_key=partition_key(candidate.partner_id, candidate.period_id),
            tags={"clusterix/file": candidate.file, "clusterix/sha256": sha},
        )
    else:
        listing = "\n".join(f"{c.file}:{sha}" for c, sha in changed)
        request = dg.RunRequest(
            run_key="batch:" + hashlib.sha256(listing.encode()).hexdigest(),
            tags={**all_partitions_tags(), "clusterix/files": str(len(changed))},
        )
    return dg.SensorResult(run_requests=[request], cursor=cursor)


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
