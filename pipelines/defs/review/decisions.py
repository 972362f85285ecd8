"""The review workflow in Dagster: a Launchpad job, the ``reviews`` table and a sensor.

``review_submission`` records one decision (the same as ``clusterix review``), so a
coordinator can act from the UI. Both write the ledger only; ``review_decisions_sensor``
notices the ledger changed and starts one ingest run, which applies the
lock, republishes ``reviews``, ``submissions.review_status``, the approved-only
scorecard, the report and the feedback workbooks. One way in for both front ends, and
no run of the pipeline inside a CLI call that may meet a daemon's run.
"""

import enum
import hashlib

import dagster as dg
from pydantic import Field

from pipelines.core.metadata.tables import REVIEWS
from pipelines.core.reference.loader import reference
from pipelines.core.state.review import LEDGER, Ledger, ReviewError, ledger_path, record
from pipelines.defs.intake.checks import checked_outputs, schema_check_specs, table_out
from pipelines.defs.operations.jobs import ingest_everything
from pipelines.defs.resources import ClusterixPaths
from pipelines.platform.settings import settings
from pipelines.platform.storage import is_remote, read_object

REVIEW_JOB = "review_submission"


class ReviewDecision(enum.Enum):
    approve = "approve"
    send_back = "send_back"
    reopen = "reopen"


# The partners and periods of the reference data, as choices: the Launchpad refuses any
# other value before a run starts, with one line naming the allowed ones.
Partner = enum.Enum("Partner", {p: p for p in reference().partner_ids})
Period = enum.Enum("Period", {p: p for p in reference().period_ids})


class ReviewConfig(dg.Config):
    """The Launchpad form: the same fields as ``clusterix review``, each with a default,
    so the Launchpad opens with every field filled in to edit."""

    decision: ReviewDecision = Field(
        default=ReviewDecision.approve,
        description="approve (lock the version in use), send_back (the partner must correct"
        " it; the note goes into the partner's feedback workbook) or reopen (lift the lock).",
    )
    partner: Partner = Field(default=Partner[reference().partner_ids[0]], description="Partner.")
    period: Period = Field(
        default=Period[reference().period_ids[0]], description="Reporting period."
    )
    note: str = Field(default="", description="Why; required for send_back.")
    by: str = Field(default="", description="Who decides (your name); required.")


@dg.op(description="Check the decision and append it to the review ledger.")
def record_review_decision(
    context: dg.OpExecutionContext, config: ReviewConfig, paths: ClusterixPaths
) -> None:
    try:
        entry = record(
            paths.state,
            reference(),
            config.decision.value,
            config.partner.value,
            config.period.value,
            note=config.note,
            by=config.by,
        )
    except ReviewError as exc:
        # The reason in one line; the exception chain would only repeat it as a stack.
        raise dg.Failure(description=f"{exc}; nothing was recorded", allow_retries=False) from None
    context.log.info(
        f"Recorded {entry.decision} of {entry.partner_id} {entry.period_id} (version"
        f" {entry.sha256[:12]}); review_decisions_sensor republishes within a minute."
    )


@dg.job(
    name=REVIEW_JOB,
    description="Record a review decision on a partner-period: approve, send_back or reopen.",
)
def review_submission() -> None:
    record_review_decision()


@dg.multi_asset(
    outs={REVIEWS.name: table_out(REVIEWS, "published")},
    # Published with the set the ingest step builds, and skipped when it has nothing to do.
    deps=["submission_states"],
    check_specs=schema_check_specs([REVIEWS]),
)
def reviews(paths: ClusterixPaths):
    """Every decision of the ledger, as the table BI tools read."""
    yield from checked_outputs([(REVIEWS, Ledger.read(paths.state).table(), {})])


@dg.sensor(
    job=ingest_everything,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Republishes everything when a review decision was recorded (CLI or job).",
)
def review_decisions_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """An ingest run when the ledger's bytes changed; the run key is their
    SHA-256, so one set of decisions is published once even if the cursor is lost."""
    location = settings().state
    if is_remote(location):
        ledger = read_object(location, LEDGER.as_posix())
    else:
        path = ledger_path(settings().state_dir)
        ledger = path.read_bytes() if path.exists() else None
    if ledger is None:
        return dg.SensorResult(run_requests=[], cursor=context.cursor)
    digest = hashlib.sha256(ledger).hexdigest()
    if digest == context.cursor:
        return dg.SensorResult(run_requests=[], cursor=digest)
    request = dg.RunRequest(run_key=f"reviews:{digest}", tags={"clusterix/reviews": digest})
    return dg.SensorResult(run_requests=[request], cursor=digest)
