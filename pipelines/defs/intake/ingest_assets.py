"""Ingest: one step reads the drop folder and reports each partner-period's truth.

``submission`` is the partners' workbook for one expected partner-period, one partition
each. Partners produce it, outside the pipeline, so it is declared as an external
asset: Dagster never "runs" a partition. The ``ingest`` step (unpartitioned, one per
run) discovers every file, ingests only those whose bytes changed, keeps each
partner-period's state, works out every partner-period's status with the one status
function, and then reports on ``submission`` the partitions whose status changed
(``submission_status``): a materialization when an accepted version is in use, and
the partition-scoped checks ``workbook_accepted`` and ``submitted_by_deadline``.

A partition with no accepted version stays Missing. This replaces a single-run backfill over the
partition range, which marks every partition of the range materialised whatever
happened to it (dagster-io/dagster#17836).

Scale-out: with ``CLUSTERIX_INGEST_CHUNKS=N`` (N > 1) the reading is split into N chunk
steps, each ingesting every N-th partner's files and saving their states; the
multiprocess executor runs them in parallel processes. ``ingest_submissions`` then
becomes the join: it reports what the chunks changed, exactly as the single step
does, so the partitions, checks and everything downstream are the same. By default
there is one step and no chunk, the cheapest run in one process.
"""

import datetime as dt
import warnings
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

import dagster as dg
import pandas as pd

from pipelines.core.intake.discovery import Candidate, discover
from pipelines.core.intake.ingest import ingest, refresh
from pipelines.core.metadata.enumerations import LATE, ON_TIME, RETRY
from pipelines.core.reference.loader import reference
from pipelines.core.reference.model import Reference
from pipelines.core.state.review import Ledger
from pipelines.core.state.store import (
    ARCHIVE_DIR,
    load_record,
    load_states,
    save_record,
    save_state,
)
from pipelines.core.state.versions import SubmissionState
from pipelines.defs.intake.check_targets import targeting
from pipelines.defs.intake.saved_states import (
    STRAYS,
    all_states,
    save_strays,
    stray_outcomes,
)
from pipelines.defs.intake.submission_status import (
    ACCEPTED_CHECK,
    ACCEPTED_CHECK_DESCRIPTION,
    DEADLINE_CHECK,
    DEADLINE_CHECK_DESCRIPTION,
    FETCH_LIMIT,
    SUBMISSION,
    acceptance_evaluation,
    acceptance_failed,
    deadline_evaluation,
    partition_metadata,
    programme_grid,
    signature,
    state_statuses,
)
from pipelines.defs.intake.up_to_date import nothing_new, published_and_current, record_build
from pipelines.defs.operations.jobs import REFERENCE_KEYS
from pipelines.defs.partitions import partition_key, submission_partitions
from pipelines.defs.resources import ClusterixPaths
from pipelines.platform.files import remove_stale_temp_files
from pipelines.platform.settings import settings

STATES = dg.AssetKey("submission_states")

submission = dg.AssetSpec(
    SUBMISSION,
    partitions_def=submission_partitions,
    group_name="ingest",
    kinds={"excel"},
    description=(
        "The workbook a partner sends for one reporting period"
        " (`raw/<partner>/<period>.xlsx`), one partition per expected partner-period."
        " Materialized when an accepted version is in use; its metadata (status first)"
        " describes that version. Refused, missing and not-yet-due partner-periods are"
        " told apart by the checks `workbook_accepted` and `submitted_by_deadline` (Checks,"
        " then Partitions). The overview shows only the partition reported last: the"
        " whole picture is on `coordinator_summary`. Reported by the ingest step."
    ),
)


def _attributable(candidate: Candidate, ref: Reference) -> bool:
    return candidate.partner_id in ref.partner_ids and candidate.period_id in ref.period_ids


def _signatures_of(document: object) -> dict[str, tuple[str | None, ...]]:
    """The partitions' signatures as last reported (raises for a document of others)."""
    return {
        str(key): tuple(None if v is None else str(v) for v in shown)
        for key, shown in dict(document).items()
    }


@dataclass
class Ingested:
    """What ingesting some partners' files changed, until the join step reports it.

    ``failing_before`` maps each changed partner-period to whether its
    ``workbook_accepted`` check was failing before (a check that passes again must be
    reported too); ``files`` counts the file versions read. A chunk step keeps it in the
    state directory, since the join runs in another process (or pod).
    """

    failing_before: dict[str, bool] = field(default_factory=dict)
    files: int = 0

    def then(self, later: "Ingested") -> "Ingested":
        """This, followed by a later ingest not yet reported: the earlier check stands."""
        failing = {**later.failing_before, **self.failing_before}
        return Ingested(failing, self.files + later.files)

    def document(self) -> dict[str, object]:
        return {"failing_before": self.failing_before, "files": self.files}

    @classmethod
    def of(cls, document: object) -> "Ingested":
        """What a saved :meth:`document` holds (raises for one that holds something else)."""
        failing = {str(k): bool(v) for k, v in dict(document["failing_before"]).items()}
        return cls(failing, int(document["files"]))


def _ingest(
    context: dg.AssetExecutionContext,
    paths: ClusterixPaths,
    found: list[Candidate],
    partners: Collection[str] | None = None,
) -> tuple[Ingested, list[SubmissionState]]:
    """Ingest the new and changed files of ``partners`` (None: all of them).

    The new states are returned unsaved, so that a chunk step can first record what it
    changed: a chunk that dies after that is still reported by the next join.
    """
    ref = reference()
    # Every partner-period in scope, not only those with files: one whose files all left
    # the folder changes too.
    scope = ref.partner_ids if partners is None else [p for p in ref.partner_ids if p in partners]
    before = load_states(paths.state, [(p, q) for p in scope for q in ref.period_ids])
    locks = Ledger.read(paths.state).locks()
    refreshed = refresh(found, list(before.values()), ref, paths.state / ARCHIVE_DIR, locks=locks)
    for outcome in refreshed.retry:
        context.log.warning(outcome.issues[0]["message"])
    context.log.info(f"{refreshed.files_read} new or changed file(s) ingested")
    keys = [partition_key(s.partner_id, s.period_id) for s in refreshed.states]
    failing = {key: acceptance_failed(before[key]) for key in keys}
    return Ingested(failing, refreshed.files_read), refreshed.states


REPORTED = "reported_partitions"


def _report_partitions(
    context: dg.AssetExecutionContext,
    paths: ClusterixPaths,
    after: dict[str, SubmissionState],
    statuses: pd.DataFrame,
    changed: set[str],
    as_of: dt.date,
) -> Iterator[dg.AssetMaterialization]:
    """Partition events for every partition whose status changed (``moved``, saved).

    A partition is reported again when a file of it changed, when what it shows changed
    (a deadline passed, a review decision), or when the instance has heard nothing yet
    (a new instance, or one whose history was wiped, shows the truth after one run).
    The materializations are yielded first, so that each check can then name the
    materialization it was evaluated against.
    """
    reported = load_record(paths.state, REPORTED, _signatures_of, {})
    fresh = context.instance.get_latest_materialization_event(STATES) is None
    keys = submission_partitions.get_partition_keys()
    now = {key: signature(statuses.loc[key]) for key in keys}
    moved = sorted(k for k in keys if fresh or k in changed or reported.get(k) != now[k])
    in_use = [k for k in moved if statuses.loc[k, "status"] in (ON_TIME, LATE)]
    for key in in_use:
        metadata = partition_metadata(statuses.loc[key], after[key], as_of)
        yield dg.AssetMaterialization(SUBMISSION, partition=key, metadata=metadata)
    latest = _latest_materializations(context, in_use)
    for key in moved:
        row = statuses.loc[key]
        accepted = acceptance_evaluation(row, after[key], as_of)
        for evaluation in (accepted, deadline_evaluation(row, as_of)):
            if evaluation is not None:
                context.log_event(targeting(evaluation, latest.get(key)))
    save_record(paths.state, REPORTED, now)
    changed.update(moved)


def _latest_materializations(
    context: dg.AssetExecutionContext, keys: list[str]
) -> dict[str, dg.EventLogRecord]:
    """The latest materialization record of each of these partitions of ``submission``,
    read in pages of at most :data:`FETCH_LIMIT` records (Dagster's own bound per call)
    until every partition is found or the history ends."""
    latest: dict[str, dg.EventLogRecord] = {}
    for start in range(0, len(keys), FETCH_LIMIT):
        batch = keys[start : start + FETCH_LIMIT]
        wanted = dg.AssetRecordsFilter(asset_key=SUBMISSION, asset_partitions=batch)
        cursor = None
        while not set(batch) <= latest.keys():
            page = context.instance.fetch_materializations(wanted, limit=FETCH_LIMIT, cursor=cursor)
            for record in page.records:  # newest first
                latest.setdefault(record.partition_key, record)
            if not page.has_more:
                break
            cursor = page.cursor
    return latest


def _report(
    context: dg.AssetExecutionContext,
    paths: ClusterixPaths,
    found: list[Candidate],
    ingested: Ingested,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult | dg.AssetMaterialization]:
    """Report what the ingest changed, list the strays, and say whether to rebuild."""
    ref = reference()
    remove_stale_temp_files(paths.state)  # left by a run that was killed half-way
    after = all_states(paths)
    as_of = dt.datetime.now(dt.UTC).date()
    statuses = state_statuses(after.values(), ref, Ledger.read(paths.state), as_of)
    # A review decision or a deadline passing changes what a partition shows, and the
    # tables built on the statuses, without a new file.
    changed = set(ingested.failing_before)
    yield from _report_partitions(context, paths, after, statuses, changed, as_of)
    stray_results = []
    strays = [c for c in found if not _attributable(c, ref)]
    for outcome in ingest(strays, ref, paths.state / ARCHIVE_DIR):
        if outcome.status == RETRY:  # read again next run; listed once it holds still
            context.log.warning(outcome.issues[0]["message"])
        else:
            stray_results.append(outcome)
    listed = [(o.file, o.sha256) for o in stray_results]
    if (
        not changed
        and listed == [(o.file, o.sha256) for o in stray_outcomes(paths)]
        and published_and_current(context, paths.state, paths.assets)
        # A new instance (or one whose history was wiped) gets the whole picture once.
        and context.instance.get_latest_materialization_event(STATES) is not None
    ):
        context.log.info("Nothing changed since the published set: nothing to rebuild.")
        nothing_new(context)
        return
    record_build(context, paths.state, found)
    save_strays(paths, stray_results)
    if STATES in context.selected_asset_keys:
        yield dg.MaterializeResult(
            asset_key="submission_states",
            metadata={
                "ingested this run": dg.MetadataValue.int(ingested.files),
                **programme_grid(statuses, after, ref),
            },
        )
    if dg.AssetKey(STRAYS) in context.selected_asset_keys:
        listing = "\n".join(f"- `{o.file}`: {o.issues[0]['message']}" for o in stray_results)
        yield dg.MaterializeResult(
            asset_key=STRAYS,
            metadata={
                "dagster/row_count": len(stray_results),
                "files": dg.MetadataValue.md(listing or "_none_"),
            },
        )
        yield dg.AssetCheckResult(
            asset_key=STRAYS,
            check_name="every_file_attributed",
            passed=not stray_results,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"files": dg.MetadataValue.md(listing or "_none_")},
        )


def chunk_partners(ref: Reference, index: int, chunks: int) -> list[str]:
    """The partners ingest chunk ``index`` reads: every ``chunks``-th partner in reference
    order, so that each chunk gets about as many workbooks."""
    return ref.partner_ids[index::chunks]


def chunk_name(index: int, chunks: int) -> str:
    return f"ingest_chunk_{index + 1}_of_{chunks}"


def _ingest_step(chunks: int) -> dg.AssetsDefinition:
    """The ingest step; with several chunks, the join that reports what they ingested."""
    chunk_keys = [dg.AssetKey(chunk_name(i, chunks)) for i in range(chunks)] if chunks > 1 else []

    @dg.multi_asset(
        name="ingest_submissions",
        specs=[
            dg.AssetSpec(
                STATES,
                deps=[SUBMISSION, *REFERENCE_KEYS, *chunk_keys],
                group_name="ingest",
                kinds={"pandera"},
                skippable=True,
                description=(
                    "Every partner-period's validated state: each file version seen, its"
                    " issues and the valid rows of the version in use (internal, under the"
                    " state directory). Its metadata is the programme-wide grid of"
                    " submissions."
                ),
            ),
            dg.AssetSpec(
                STRAYS,
                deps=REFERENCE_KEYS,
                skippable=True,
                group_name="ingest",
                description="Files in the drop folder that belong to no partner-period, with why.",
            ),
        ],
        # Subsettable so that its outputs and check are optional: a run with nothing to
        # do withholds them, and everything downstream is skipped.
        can_subset=True,
        check_specs=[
            dg.AssetCheckSpec(
                "every_file_attributed",
                asset=STRAYS,
                description=(
                    "Every file in the drop folder is a partner-period's workbook. A failure"
                    " lists files that were ignored (wrong folder, name or type): a partner"
                    " may believe they have reported."
                ),
            )
        ],
    )
    def ingest_submissions(context: dg.AssetExecutionContext, paths: ClusterixPaths):
        """Ingest the new and changed files of the drop folder in one pass (one chunk), or
        report what the chunk steps ingested."""
        found = discover(paths.raw, reference())
        if chunks == 1:
            ingested, states = _ingest(context, paths, found)
            for state in states:
                save_state(paths.state, state)
            yield from _report(context, paths, found, ingested)
            return
        names = [chunk_name(i, chunks) for i in range(chunks)]
        ingested = Ingested()
        for name in names:
            ingested = ingested.then(load_record(paths.state, name, Ingested.of, Ingested()))
        yield from _report(context, paths, found, ingested)
        for name in names:  # reported: a failed join leaves them for the next one
            save_record(paths.state, name, Ingested().document())

    return ingest_submissions


def _chunk_step(index: int, chunks: int) -> dg.AssetsDefinition:
    """One chunk of the ingest: its partners' new and changed files, in its own step."""
    name = chunk_name(index, chunks)

    @dg.asset(
        name=name,
        deps=[SUBMISSION, *REFERENCE_KEYS],
        group_name="ingest",
        kinds={"pandera"},
        description=(
            f"Ingest chunk {index + 1} of {chunks}: the new and changed workbooks of every"
            f" {chunks}th partner, validated into their partner-periods' states. The"
            " ingest_submissions step reports what the chunks changed."
        ),
    )
    def chunk(context: dg.AssetExecutionContext, paths: ClusterixPaths) -> dg.MaterializeResult:
        partners = chunk_partners(reference(), index, chunks)
        ingested, states = _ingest(context, paths, discover(paths.raw, reference()), partners)
        # What changed is recorded before the states: never a changed state unreported.
        earlier = load_record(paths.state, name, Ingested.of, Ingested())
        save_record(paths.state, name, earlier.then(ingested).document())
        for state in states:
            save_state(paths.state, state)
        return dg.MaterializeResult(
            metadata={
                "partners": ", ".join(partners),
                "ingested this run": dg.MetadataValue.int(ingested.files),
            }
        )

    return chunk


INGEST_CHUNKS = settings().ingest_chunks
ingest_submissions = _ingest_step(INGEST_CHUNKS)
# No chunk steps by default: one step costs least in one process.
ingest_chunks = (
    [_chunk_step(i, INGEST_CHUNKS) for i in range(INGEST_CHUNKS)] if INGEST_CHUNKS > 1 else []
)


def _partition_status(
    paths: ClusterixPaths, key: str
) -> tuple[pd.Series, SubmissionState, dt.date]:
    """One partition's status row and state, as of today, for a check run from the UI."""
    states = all_states(paths)
    as_of = dt.datetime.now(dt.UTC).date()
    statuses = state_statuses(states.values(), reference(), Ledger.read(paths.state), as_of)
    return statuses.loc[key], states[key], as_of


def _result(evaluation: dg.AssetCheckEvaluation) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=evaluation.passed,
        severity=evaluation.severity,
        metadata=evaluation.metadata,
        description=evaluation.description,
    )


def _workbook_accepted(
    context: dg.AssetCheckExecutionContext, paths: ClusterixPaths
) -> dg.AssetCheckResult:
    """Re-evaluate one partition from its stored state (ingest reports it as it goes)."""
    row, state, as_of = _partition_status(paths, context.partition_key)
    evaluation = acceptance_evaluation(row, state, as_of)
    if evaluation is None:
        return dg.AssetCheckResult(
            passed=True, description="Nothing was sent for this partner-period yet."
        )
    return _result(evaluation)


def _submitted_by_deadline(
    context: dg.AssetCheckExecutionContext, paths: ClusterixPaths
) -> dg.AssetCheckResult:
    """Re-evaluate one partition's deadline from its stored state, as of today."""
    row, _, as_of = _partition_status(paths, context.partition_key)
    return _result(deadline_evaluation(row, as_of))


# Partition-scoped checks are a preview feature of Dagster 1.13, relied on knowingly
# (README, "Running it"): its warning is said there once, not on every run.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)
    workbook_accepted = dg.asset_check(
        asset="submission",
        name=ACCEPTED_CHECK,
        partitions_def=submission_partitions,
        description=ACCEPTED_CHECK_DESCRIPTION,
    )(_workbook_accepted)
    submitted_by_deadline = dg.asset_check(
        asset="submission",
        name=DEADLINE_CHECK,
        partitions_def=submission_partitions,
        description=DEADLINE_CHECK_DESCRIPTION,
    )(_submitted_by_deadline)
