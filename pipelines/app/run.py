"""``clusterix run``: one Dagster run over the whole drop folder, then the scorecard.

The run is the unpartitioned ``ingest_everything`` job, executed in this process: its
ingest step reads only new or changed files and reports each partner-period's
partition itself, so launching a run is paid once rather than once per workbook.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import pandas as pd

from pipelines.core.indicators.compute import floor_gaps
from pipelines.core.metadata.enumerations import ACCEPTED, NOT_EXPECTED, REJECTED
from pipelines.core.metadata.tables import (
    INDICATOR_SCORECARD,
    STAKEHOLDER_MEETING_FLOOR,
    SUBMISSION_COMPLETENESS,
    SUBMISSIONS,
    VALIDATION_ISSUES,
)
from pipelines.core.outputs.manifest import current_manifest, published_whole_or_not_at_all
from pipelines.core.outputs.numbers import figure, percent
from pipelines.core.outputs.parquet import read_parquet
from pipelines.core.reference.loader import reference
from pipelines.core.reference.project import Project
from pipelines.core.state.completeness import STATUS_WORDS
from pipelines.defs.operations.executor import run_settings
from pipelines.platform.failures import operational_error
from pipelines.platform.instance import dev_config, install_instance
from pipelines.platform.settings import settings
from pipelines.platform.storage import is_remote
from pipelines.platform.sync import synced
from pipelines.platform.writer_lock import LockUnavailable, WriterBusy, setup_lock

if TYPE_CHECKING:
    from dagster_shared.error import SerializableErrorInfo


class _SkippedCheckNotice(logging.Filter):
    """Drops Dagster's notice that a skipped step's blocking check "emitted no result".

    A step here withholds its outputs only in two ways: a failed schema check, which is
    itself a result, or a run with nothing to do, where the step and everything after it
    is skipped on purpose. The notice is then true of every check and says nothing the
    coordinator can act on, so ``clusterix run`` keeps it off the terminal.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "emitted no result" not in record.getMessage()


logging.getLogger("dagster._core.execution.plan.active").addFilter(_SkippedCheckNotice())

REPORT = Path("report") / "progress_report.html"
FEEDBACK = "feedback"


def _instance() -> dg.DagsterInstance:
    """The instance under DAGSTER_HOME (so ``make ui`` shows the run), else a temporary one.

    A DAGSTER_HOME without a dagster.yaml gets the shipped dev configuration (telemetry off).
    """
    home = os.environ.get("DAGSTER_HOME")
    if home:
        install_instance(Path(home), dev_config())
        with setup_lock(Path(home)):
            return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


# Dagster's console logger would print each failure with its stack; the run's outcome
# is reported by ``run_pipeline`` in one line instead.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def run_everything(
    instance: dg.DagsterInstance | None = None,
    run_config: dict | None = None,
    run_id: str | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialise every asset in one in-process run, which publishes all or nothing.

    Dagster's in-process execution bypasses the code location's executor, so the run's
    unpublished snapshot is discarded here (see ``published_whole_or_not_at_all``).
    """
    from pipelines.definitions import defs
    from pipelines.defs.operations.jobs import INGEST_JOB, run_selection

    job = defs.resolve_job_def(INGEST_JOB)
    run_id = run_id or str(uuid.uuid4())
    chosen = run_settings(run_config or {})
    keys = defs.resolve_asset_graph().materializable_asset_keys  # the job selects all
    with published_whole_or_not_at_all(chosen.assets_dir, run_id):
        return job.execute_in_process(
            instance=instance or _instance(),
            run_config=run_config,
            run_id=run_id,
            raise_on_error=False,
            asset_selection=run_selection(keys, chosen),
        )


def _root_cause(error: SerializableErrorInfo) -> SerializableErrorInfo:
    """The pipeline's own error inside Dagster's wrappers (else the innermost one).

    A :class:`~pipelines.platform.files.PublishError` already names the file and the
    operating system's reason, so it is preferred over the bare ``OSError`` it wraps.
    """
    chain = [error]
    while chain[-1].cause is not None:
        chain.append(chain[-1].cause)
    own = [e for e in chain if e.cls_name and not e.cls_name.startswith("Dagster")]
    return own[0] if own else chain[-1]


def failure_line(result: dg.ExecuteInProcessResult, published: bool) -> str:
    """Why a run failed, in one line: the step, the file and the cause, no stack.

    A run publishes all or nothing: the documents under the assets folder depend on the
    ``publication`` asset, and a snapshot it did not publish is discarded. So the line
    says that nothing was published, unless the run had ``published`` its tables before
    a document failed.
    """
    outcome = (
        "this run's tables were published, not all of its documents"
        if published
        else "nothing was published: the previous tables, report, feedback and data"
        " dictionary are unchanged"
    )
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            cause = _root_cause(error) if error is not None else None
            what = cause.message.strip().splitlines()[0] if cause else "unknown error"
            qualified, _, message = what.partition(": ")
            if cause and cause.cls_name and qualified.endswith(cause.cls_name) and message:
                what = f"{cause.cls_name}: {message}"
            return f"step {event.step_key} failed: {what} ({outcome})"
    return f"the pipeline run failed ({outcome})"


def format_scorecard(scorecard: pd.DataFrame) -> str:
    """The scorecard as a plain-text table for the terminal."""
    header = (
        f"{'indicator':<9} {'name':<60} {'unit':<11} {'target':>14} {'achieved':>14}"
        f" {'% target':>8}"
    )
    lines = [header, "-" * len(header)]
    for row in scorecard.itertuples(index=False):
        lines.append(
            f"{row.indicator_id:<9} {row.name[:60]:<60} {row.unit:<11}"
            f" {figure(row.target, row.unit):>14} {figure(row.achieved, row.unit):>14}"
            f" {percent(row.pct_of_target):>8}"
        )
    return "\n".join(lines)


def run_pipeline(wait: float | None = None) -> int:
    """Exit 0 when the pipeline ran, whatever the data's errors; 1 when it could not run.

    The state directory's writer lock is taken first, before the Dagster instance is
    even created, so that a second ``clusterix run`` waits (up to ``wait`` seconds,
    default ``CLUSTERIX_LOCK_TIMEOUT``) instead of interleaving its writes. Directories
    on S3 are pulled under the lock and pushed back before it is released.
    """
    run_id = str(uuid.uuid4())
    sys.unraisablehook = _one_line_unraisable
    try:
        with synced(
            settings(),
            command="clusterix run",
            run_id=run_id,
            timeout=wait,
            say=lambda message: print(message, file=sys.stderr, flush=True),
        ):
            return _run_pipeline(run_id)
    except (WriterBusy, LockUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        # An unreachable database, a full or read-only disk: one line, not a traceback.
        message = operational_error(exc)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1


def _one_line_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """A file left open by a failed write (a full disk) fails again when it is collected;
    that is the same failure, already reported, so one line rather than a traceback."""
    print(f"warning: {unraisable.exc_value} (while closing a file)", file=sys.stderr)


def _run_pipeline(run_id: str) -> int:
    where = settings()
    raw, assets = where.raw_dir, where.assets_dir
    if not raw.is_dir():
        print(f"error: the raw directory {raw} does not exist", file=sys.stderr)
        return 1
    shown = _shown(where.raw, raw), _shown(where.assets, assets)
    print(
        f"Ingesting {shown[0]} into {shown[1]} (one Dagster run; only new or changed files"
        " are read)"
    )
    result = run_everything(run_config=QUIET, run_id=run_id)
    if not result.success:
        published = (current_manifest(assets) or {}).get("run_id") == run_id
        print(f"error: {failure_line(result, published)}", file=sys.stderr)
        return 1
    print(format_scorecard(read_parquet(INDICATOR_SCORECARD, assets)))
    print()
    submissions = read_parquet(SUBMISSIONS, assets)
    issues = read_parquet(VALIDATION_ISSUES, assets)
    print(submissions_summary(submissions, issues))
    print(statuses_summary(read_parquet(SUBMISSION_COMPLETENESS, assets)))
    rejected = rejected_summary(submissions, issues)
    if rejected:
        print(rejected)
    floor = floor_summary(read_parquet(STAKEHOLDER_MEETING_FLOOR, assets), reference().project)
    if floor:
        print(floor)
    print()
    feedback = sorted((assets / FEEDBACK).rglob("*.xlsx")) if (assets / FEEDBACK).is_dir() else []
    print(f"Tables:    {shown[1]}")
    print(f"Issues:    {shown[1]}/validation_issues.parquet (what each partner must fix)")
    print(f"Feedback:  {shown[1]}/{FEEDBACK} ({len(feedback)} workbooks for partners)")
    print(f"Report:    {shown[1]}/{REPORT.as_posix()}")
    return 0


def _shown(location: str, local: Path) -> str:
    """Where the user should look: the s3:// URL, not the working copy behind it."""
    return location.rstrip("/") if is_remote(location) else str(local)


def floor_summary(floor: pd.DataFrame, project: Project) -> str | None:
    """The stakeholder-meeting floor project.yaml declares in one line, with its gaps;
    None for a project that declares none, which then has no such line."""
    rule = project.floor
    if rule is None:
        return None
    met = floor["floor_met"].astype("boolean")
    gaps = ", ".join(f"{r.partner_id} {r.period_id}" for r in floor_gaps(floor).itertuples())
    unknown = int(met.isna().sum())
    return (
        f"Stakeholder-meeting floor (at least {rule.minimum} {rule.event_type} per partner"
        f" and period of {project.phase_name(rule.phase)}): {int(met.fillna(False).sum())} of"
        f" {len(floor)} met"
        + (f"; gaps: {gaps}" if gaps else "")
        + (f"; {unknown} unknown (no workbook in use)" if unknown else "")
    )


def submissions_summary(submissions: pd.DataFrame, issues: pd.DataFrame) -> str:
    """One line on what came in and what partners have to fix."""
    counts = submissions["status"].value_counts()
    open_issues = issues[issues["is_open"].astype("boolean").fillna(False).astype(bool)]
    errors = int((open_issues["severity"] == "error").sum())
    warnings = int((open_issues["severity"] == "warning").sum())
    return (
        f"Workbook versions: {counts.get(ACCEPTED, 0)} accepted, {counts.get(REJECTED, 0)}"
        f" rejected; open issues: {errors} errors, {warnings} warnings"
    )


def _about(file: str, message: str) -> str:
    """A message about a file, named once: many file rules' messages start with it."""
    return message if message.startswith(file) else f"{file}: {message}"


def statuses_summary(completeness: pd.DataFrame) -> str:
    """One line on where the expected partner-periods stand, in the statuses' own words
    (``submission_completeness`` holds the answer of the one status function)."""
    counts = completeness["status"].value_counts()
    parts = [
        f"{int(counts.get(status, 0))} {words}"
        for status, words in STATUS_WORDS.items()
        if status != NOT_EXPECTED
    ]
    return "Partner-periods: " + ", ".join(parts)


def rejected_summary(submissions: pd.DataFrame, issues: pd.DataFrame) -> str:
    """Each rejected workbook in the drop folder now, with the reason, one a line."""
    in_folder = submissions["in_folder"].astype("boolean").fillna(False).astype(bool)
    rejected = submissions[in_folder & (submissions["status"] == REJECTED)]
    is_open = issues["is_open"].astype("boolean").fillna(False).astype(bool)
    errors = issues[is_open & (issues["severity"] == "error")].drop_duplicates(["file", "sha256"])
    named = rejected.merge(errors[["file", "sha256", "message"]], on=["file", "sha256"])
    lines = [f"  {_about(row.file, row.message)}" for row in named.itertuples(index=False)]
    return "Rejected workbooks (nothing of them is used):\n" + "\n".join(lines) if lines else ""
