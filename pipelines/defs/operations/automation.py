"""How work starts: the job, the sensor on the drop folder and the daily schedule.

Every run is the same unpartitioned job: its ingest step finds out which files are new
or changed and reports the partitions of those files only, so a run after one changed
workbook does the work of one workbook, and a run when nothing changed does none.
"""

import hashlib

import dagster as dg

from pipelines.core.intake.discovery import Candidate, discover
from pipelines.core.reference.loader import reference
from pipelines.defs.intake.up_to_date import DIGEST_CHARS, content_digest, nothing_new_since_build
from pipelines.platform import settings as config
from pipelines.platform.storage import fresh_copy, is_remote

INGEST_JOB = "ingest_everything"
MAX_NAMED = 5

ingest_everything = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.all(),
    description=(
        "Ingest the new and changed workbooks of the drop folder and rebuild every"
        " published table, indicator, report and feedback workbook."
    ),
)


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:DIGEST_CHARS]


def _stat_line(candidate: Candidate) -> str:
    try:
        info = candidate.path.lstat()
    except OSError:
        return f"{candidate.file}:gone"
    return f"{candidate.file}:{info.st_size}:{info.st_mtime_ns}"


def unattributed_reason(candidate: Candidate) -> str | None:
    """Why a file belongs to no partner-period, or None when it does."""
    ref = reference()
    if candidate.partner_id in ref.partner_ids and candidate.period_id in ref.period_ids:
        return None
    if candidate.rejection is not None:
        return candidate.rejection.message
    return "not a partner-period of the programme"


@dg.sensor(
    job=ingest_everything,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts one run when the drop folder changed (new, changed or removed files) and"
        " names, in its log, any file that belongs to no partner-period."
    ),
)
def raw_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """One run per tick for whatever changed; the cursor is two short digests.

    The cursor is ``<listing>:<content>``: a digest of every file's name, size and
    modification time (cheap, read each tick) and a digest of every file's name and
    SHA-256 (read only when the listing moved). The run key is the content digest, so
    Dagster never runs twice for the same drop folder even if the cursor is lost.
    """
    listing_seen, _, content_seen = (context.cursor or "").partition(":")
    # On S3, the listing (key, size, ETag) refreshes the sensor's own copy, whose files
    # carry the objects' modification times: the digests below then work unchanged.
    candidates = discover(fresh_copy(config.raw_location(), "sensor"))
    listing = _digest([_stat_line(c) for c in candidates])
    if listing == listing_seen:
        return dg.SensorResult(skip_reason="The drop folder is unchanged.", cursor=context.cursor)
    content = content_digest(candidates)
    cursor = f"{listing}:{content}"
    if content == content_seen:
        return dg.SensorResult(
            skip_reason="Files touched but their bytes are unchanged.", cursor=cursor
        )
    strays = [(c.file, reason) for c in candidates if (reason := unattributed_reason(c))]
    for _, reason in strays:
        context.log.warning(f"Belongs to no partner-period: {reason}")
    names = ", ".join(file for file, _ in strays[:MAX_NAMED])
    if len(strays) > MAX_NAMED:
        names += f" and {len(strays) - MAX_NAMED} more"
    tags = {"clusterix/files": str(len(candidates))}
    if strays:
        # On the run's page too, where the unattributed_files asset gives each reason.
        tags["clusterix/unattributed"] = names
    request = dg.RunRequest(run_key=f"drop-folder:{content}", tags=tags)
    return dg.SensorResult(run_requests=[request], cursor=cursor)


@dg.schedule(
    job=ingest_everything,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Daily: the whole pipeline, unless nothing is new since the published set (the"
        " drop folder, reference data and reviews unchanged, no deadline passed): then the"
        " tick is skipped, as the sensor skips an unchanged folder."
    ),
)
def daily_ingest(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    # With the state on S3 the daemon's copy may be behind: then the run decides.
    if not is_remote(config.state_location()) and nothing_new_since_build(
        config.state_dir(), config.assets_dir(), fresh_copy(config.raw_location(), "schedule")
    ):
        return dg.SkipReason(
            "Nothing new since the published set: the drop folder, reference data and"
            " reviews are unchanged, and no deadline passed."
        )
    return dg.RunRequest(run_key=context.scheduled_execution_time.isoformat())
