"""How work starts: the sensor on the drop folder and the daily schedule, each starting
the one job (:mod:`pipelines.defs.operations.jobs`) when the folder changed."""

import hashlib
from pathlib import Path

import dagster as dg

from pipelines.core.intake.discovery import Candidate, discover, listing
from pipelines.core.intake.ingest import fingerprint
from pipelines.core.intake.issues import message_for
from pipelines.core.reference.loader import reference
from pipelines.defs.intake.up_to_date import DIGEST_CHARS, nothing_new_since_build
from pipelines.defs.operations.jobs import ingest_everything, run_selection
from pipelines.platform.settings import settings
from pipelines.platform.storage import fresh_copy, is_remote

MAX_NAMED = 5


# Dagster's sensor daemon looks at its sensors every 5 seconds. Just under that, this
# sensor is evaluated at every look (at 5, a look a few milliseconds early would skip
# it, making it 10); each evaluation of an unchanged folder is one lstat per file.
SENSOR_INTERVAL_SECONDS = 4


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:DIGEST_CHARS]


class _Hashes:
    """Each file's SHA-256 as of its size and modification time: a file is hashed again
    only when those moved, so a tick after one changed workbook reads one workbook.

    Held by the process that evaluates the sensor (the code server, long-lived under
    the daemon); a new process hashes every file once.
    """

    def __init__(self) -> None:
        self._known: dict[Path, tuple[tuple[int, int], str]] = {}

    def content_lines(
        self, candidates: list[Candidate], stats: dict[str, tuple[int, int]]
    ) -> list[str]:
        """``file:sha256`` of every candidate, its stat taken from ``stats`` (the listing
        read before the bytes, so a change while hashing is seen on the next tick)."""
        known: dict[Path, tuple[tuple[int, int], str]] = {}
        lines = []
        for candidate in candidates:
            stat = stats.get(candidate.file, (-1, -1))
            seen = self._known.get(candidate.path)
            sha = seen[1] if seen and seen[0] == stat and stat[0] >= 0 else fingerprint(candidate)
            known[candidate.path] = (stat, sha)
            lines.append(f"{candidate.file}:{sha}")
        self._known = known
        return lines


_HASHES = _Hashes()


def _job_keys(
    context: dg.SensorEvaluationContext | dg.ScheduleEvaluationContext,
) -> list[dg.AssetKey]:
    """The assets of the job the sensor and the schedule start (it selects them all)."""
    return list(context.repository_def.asset_graph.materializable_asset_keys)


def unattributed_reason(candidate: Candidate) -> str | None:
    """Why a file belongs to no partner-period, or None when it does."""
    ref = reference()
    if candidate.partner_id in ref.partner_ids and candidate.period_id in ref.period_ids:
        return None
    if candidate.rejection is not None:
        return message_for(candidate.rejection.rule, ref=ref, **candidate.rejection.details)
    return "not a partner-period of the programme"


@dg.sensor(
    job=ingest_everything,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts one run when the drop folder changed (new, changed or removed files) and"
        " names, in its log, any file that belongs to no partner-period."
    ),
)
def raw_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """One run per tick for whatever changed; the cursor is two short digests.

    The cursor is ``<listing>:<content>``: a digest of every file's name, size and
    modification time (one lstat per file, each tick) and a digest of every file's name
    and SHA-256 (only when the listing moved, hashing only the files whose size or time
    moved). The run key is the content digest, so Dagster never runs twice for the same
    drop folder even if the cursor is lost.
    """
    listing_seen, _, content_seen = (context.cursor or "").partition(":")
    # On S3, the listing (key, size, ETag) refreshes the sensor's own copy, whose files
    # carry the objects' modification times: the digests below then work unchanged.
    raw = fresh_copy(settings().raw, "sensor")
    stats = {file: (size, mtime) for file, size, mtime in listing(raw)}
    listing_now = _digest([f"{file}:{size}:{mtime}" for file, (size, mtime) in stats.items()])
    if listing_now == listing_seen:
        return dg.SensorResult(skip_reason="The drop folder is unchanged.", cursor=context.cursor)
    candidates = discover(raw, reference())
    content = _digest(_HASHES.content_lines(candidates, stats))
    cursor = f"{listing_now}:{content}"
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
    request = dg.RunRequest(
        run_key=f"drop-folder:{content}",
        tags=tags,
        asset_selection=run_selection(_job_keys(context), settings()),
    )
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
    now = settings()
    if not is_remote(now.state) and nothing_new_since_build(
        now.state_dir, now.assets_dir, fresh_copy(now.raw, "schedule")
    ):
        return dg.SkipReason(
            "Nothing new since the published set: the drop folder, reference data and"
            " reviews are unchanged, and no deadline passed."
        )
    return dg.RunRequest(
        run_key=context.scheduled_execution_time.isoformat(),
        asset_selection=run_selection(_job_keys(context), now),
    )
