"""Run retention under the daemon: a weekly run of a one-step job that prunes old runs.

Ticks are purged by the instance (``retention:`` in ``dagster.yaml``); runs are not, and
must not be purged naively (``pipelines/platform/retention.py`` says why), so ``make serve``'s
daemon starts this job every Sunday at 05:00 UTC, an hour before the daily ingest. It
goes through the same queue of one run as the pipeline; it only reads and deletes
Dagster's records, for seconds, so it runs in process without the state directory's
writer lock. Its own run is started, so never a candidate, and is also spared by id.
"""

from datetime import timedelta

import dagster as dg

from pipelines.platform.retention import prune_runs
from pipelines.platform.settings import run_retention_days

PRUNE_JOB = "prune_old_runs"


class PruneConfig(dg.Config):
    """``older_than_days``: default ``CLUSTERIX_RUN_RETENTION_DAYS`` (90)."""

    older_than_days: int | None = None
    dry_run: bool = False


@dg.op(description="Delete the old finished runs that hold nothing the UI shows as latest.")
def prune_runs_op(context: dg.OpExecutionContext, config: PruneConfig) -> None:
    # The code location's checks, imported at run time since definitions.py imports this
    # module (and a run executed in process has no repository on its context).
    from pipelines.definitions import defs

    days = config.older_than_days
    report = prune_runs(
        context.instance,
        timedelta(days=run_retention_days() if days is None else days),
        check_keys=defs.resolve_asset_graph().asset_check_keys,
        dry_run=config.dry_run,
        spare={context.run_id},
    )
    for run_id in report.deleted:
        context.log.info(f"{'Would delete' if report.dry_run else 'Deleted'} run {run_id}")
    context.log.info(report.summary())


@dg.job(name=PRUNE_JOB, executor_def=dg.in_process_executor)
def prune_old_runs() -> None:
    """Delete the finished runs older than CLUSTERIX_RUN_RETENTION_DAYS (default 90) that
    hold no latest materialisation, observation, check evaluation or failure."""
    prune_runs_op()


@dg.schedule(
    job=prune_old_runs,
    cron_schedule="0 5 * * 0",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Weekly: delete old runs that hold nothing the UI shows as latest.",
)
def weekly_run_retention(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=context.scheduled_execution_time.isoformat())
