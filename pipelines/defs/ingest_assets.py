"""Ingest: one partition per partner x period, any number of partitions per run.

``submission`` discovers the files of the partitions it is asked for, ingests those
whose bytes changed since the last run (all of them validated in one pass), and folds
each outcome into the partition's state. ``unattributed_files`` keeps a record of the
files that belong to no partner-period, so nothing dropped in ``raw/`` goes unseen.
"""

from collections import defaultdict

import dagster as dg

from pipelines.core.discovery import Candidate, discover
from pipelines.core.ingest import Outcome, SubmissionState, fingerprint, ingest
from pipelines.core.reference import reference
from pipelines.core.review import Ledger, refused_while_locked
from pipelines.core.state_store import ARCHIVE_DIR, load_state
from pipelines.defs.partitions import split_key, submission_partitions
from pipelines.defs.resources import ClusterixPaths

MAX_PARTITION_METADATA = 500
GRID_ROWS = 60


def _attributable(candidate: Candidate) -> bool:
    ref = reference()
    return candidate.partner_id in ref.partner_ids and candidate.period_id in ref.period_ids


def _partition_metadata(state: SubmissionState, ledger: Ledger) -> dict[str, object]:
    latest = state.latest
    if latest is None:
        return {"status": "not submitted", "dagster/row_count": 0}
    rows = sum(len(frame) for frame in state.records.values())
    return {
        "status": latest["status"],
        "review status": ledger.state_status(state),
        "file": str(latest["file"]),
        "sha256": str(latest["sha256"]),
        "errors": int(latest["n_errors"]),
        "warnings": int(latest["n_warnings"]),
        "versions seen": len(state.versions),
        "current sha256": state.current_sha256 or "none accepted",
        "dagster/row_count": rows,
    }


def _status_symbol(state: SubmissionState) -> str:
    latest = state.latest
    if latest is None:
        return "·"
    if state.current_sha256 is None:
        return "✗"
    return "✓" if latest["status"] == "accepted" else "✓!"


_REVIEW_MARK = {"approved": " 🔒", "sent_back": " ↩", "reopened": " 🔓"}


def _summary_metadata(
    states: dict[str, SubmissionState], ingested: int, ledger: Ledger
) -> dict[str, object]:
    """What every partition of the run looks like, as a partner x period grid."""
    ref = reference()
    by_pair = {(s.partner_id, s.period_id): s for s in states.values()}
    periods = [p for p in ref.period_ids if any(k[1] == p for k in by_pair)]
    lines = ["| partner | " + " | ".join(periods) + " |", "|---" * (len(periods) + 1) + "|"]
    partners = [p for p in ref.partner_ids if any(k[0] == p for k in by_pair)]
    for partner in partners[:GRID_ROWS]:
        cells = [
            _status_symbol(by_pair[(partner, p)])
            + _REVIEW_MARK.get(ledger.state_status(by_pair[(partner, p)]), "")
            if (partner, p) in by_pair
            else ""
            for p in periods
        ]
        lines.append(f"| {partner} | " + " | ".join(cells) + " |")
    lines.append(
        "\n✓ accepted · ✓! latest version rejected, an earlier one in use ·"
        " ✗ rejected, nothing in use · · not submitted;"
        " review: 🔒 approved (locked) · ↩ sent back · 🔓 reopened"
    )
    statuses = [_status_symbol(s) for s in states.values()]
    return {
        "ingested this run": dg.MetadataValue.int(ingested),
        "in use": dg.MetadataValue.int(sum(s.startswith("✓") for s in statuses)),
        "rejected": dg.MetadataValue.int(statuses.count("✗") + statuses.count("✓!")),
        "not submitted": dg.MetadataValue.int(statuses.count("·")),
        "submissions": dg.MetadataValue.md("\n".join(lines)),
    }


@dg.asset(
    partitions_def=submission_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    io_manager_key="state_io",
    group_name="ingest",
    kinds={"excel", "pandera"},
    description=(
        "The workbook of one partner for one reporting period: every version seen, its"
        " validation issues, and the valid rows of the version in use."
    ),
)
def submission(context: dg.AssetExecutionContext, paths: ClusterixPaths) -> dict:
    ref = reference()
    candidates: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for candidate in discover(paths.raw):
        if _attributable(candidate):
            candidates[(candidate.partner_id, candidate.period_id)].append(candidate)

    ledger = Ledger.read(paths.state)
    locks = ledger.locks()
    states: dict[str, SubmissionState] = {}
    todo: list[tuple[str, Candidate, str]] = []
    reviewed: list[str] = []
    for key in context.partition_keys:
        partner_id, period_id = split_key(key)
        state = load_state(paths.state, partner_id, period_id)
        states[key] = state
        files = {c: fingerprint(c) for c in candidates[(partner_id, period_id)]}
        new = set(state.changed(files))
        retry = refused_while_locked(state, locks)  # reopened: read what the lock refused
        todo += [(key, c, sha) for c, sha in files.items() if c in new or c.file in retry]
        if ledger.last(partner_id, period_id) is not None:
            reviewed.append(key)

    outcomes = ingest(
        [c for _, c, _ in todo],
        ref,
        paths.state / ARCHIVE_DIR,
        fingerprints={c: sha for _, c, sha in todo},
        locks=locks,
    )
    for (key, _, _), outcome in zip(todo, outcomes, strict=True):
        states[key] = states[key].apply(outcome)
    context.log.info(
        f"{len(todo)} new or changed file(s) ingested across {len(states)} partition(s)"
    )
    # Reviewed partitions too: a decision changes their metadata without a new file.
    changed = list(dict.fromkeys([*(key for key, _, _ in todo), *reviewed]))
    if len(changed) <= MAX_PARTITION_METADATA:
        # Dagster checks each call against the whole partition range, so this is
        # quadratic in partitions: fine for 121, not for a synthetic programme of 12,000.
        for key in changed:
            context.add_asset_metadata(_partition_metadata(states[key], ledger), partition_key=key)
    context.add_output_metadata(_summary_metadata(states, len(todo), ledger))
    return states


@dg.asset(
    io_manager_key="state_io",
    group_name="ingest",
    description="Files in the drop folder that belong to no partner-period, with the reason.",
)
def unattributed_files(context: dg.AssetExecutionContext, paths: ClusterixPaths) -> list[Outcome]:
    strays = [c for c in discover(paths.raw) if not _attributable(c)]
    outcomes = ingest(strays, reference(), paths.state / ARCHIVE_DIR)
    context.add_output_metadata(
        {
            "dagster/row_count": len(outcomes),
            "files": dg.MetadataValue.md(
                "\n".join(f"- `{o.file}`: {o.issues[0]['message']}" for o in outcomes) or "_none_"
            ),
        }
    )
    return outcomes
