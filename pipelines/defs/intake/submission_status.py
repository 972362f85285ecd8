"""What the Dagster UI says about each partner-period: partition events, checks, grid.

Every surface shows the answer of ONE function,
:func:`pipelines.core.state.completeness.submission_statuses` (SPEC section 10), computed here
from the partner-period states: the partition's materialization, its two partition-scoped
checks and the programme-wide grid of ``submission_states``. The report and the
``submission_completeness`` table ask the same function, so none of them can disagree.

In the partition view of ``submission`` the statuses are told apart as follows:

- Materialized: an accepted version is in use (on time or late); the first metadata
  row, ``status``, says which in words, with the days late;
- ``workbook_accepted`` (per partition): passed when the folder's files were accepted,
  failed when the folder holds a refused file (an error when nothing is in use, a warning when an
  earlier version still is), not evaluated where nothing was sent;
- ``submitted_by_deadline`` (per partition): passed when on time or not yet due,
  failed as a warning when accepted late, as an error when the deadline passed with
  nothing accepted (missing, or refused).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import dagster as dg
import pandas as pd

from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.enumerations import (
    LATE,
    MISSING,
    NOT_EXPECTED,
    NOT_YET_DUE,
    ON_TIME,
    REJECTED,
)
from pipelines.core.reference.loader import reference
from pipelines.core.reference.model import Reference
from pipelines.core.state.completeness import explain, submission_statuses
from pipelines.core.state.morning import status_counts
from pipelines.core.state.review import Ledger
from pipelines.core.state.submissions import submissions_table
from pipelines.core.state.versions import SubmissionState, version_key

SUBMISSION = dg.AssetKey("submission")
# Records Dagster returns at most per fetch_materializations call.
FETCH_LIMIT = 10_000
ACCEPTED_CHECK = "workbook_accepted"
ACCEPTED_CHECK_DESCRIPTION = (
    "The partner-period's folder holds no refused file. Passes for every partition whose"
    " files in the folder were accepted. Fails (error) when the folder holds refused files"
    " and nothing of this partner-period is published; fails as a warning when it does and"
    " an accepted version is in use. A file removed from the folder stops counting. Not"
    " evaluated where the folder holds nothing of it. The metadata's `status` says why,"
    " in words."
)
DEADLINE_CHECK = "submitted_by_deadline"
DEADLINE_CHECK_DESCRIPTION = (
    "No deadline was missed. Passes when an accepted workbook came by the deadline, or"
    " when the deadline is still ahead (not yet due). Fails as a warning when the workbook"
    " was accepted late (the metadata gives the days late), as an error when the deadline"
    " passed with nothing accepted (missing, or every workbook refused)."
)
# The partition-keyed signature of what a partition shows: a change in any of these
# (a new version, a deadline passing, a review decision) is reported again.
SIGNATURE = (
    "status",
    "sha256",
    "days_late",
    "latest_rejected",
    "rejected_file",
    "reason",
    "review_status",
)


def state_statuses(
    states: Iterable[SubmissionState], ref: Reference, ledger: Ledger, as_of: dt.date
) -> pd.DataFrame:
    """:func:`submission_statuses` of the states, indexed by partition key ``P4|RP07``.

    Built from the same rows as the published ``submissions`` and ``validation_issues``
    tables: every version seen, with its review status, and the errors of each version.
    """
    states = list(states)
    submissions = ledger.with_review_status(submissions_table(states, []))
    errors = [i for s in states for i in s.issues if i["severity"] == "error"]
    issues = pd.DataFrame(errors, columns=["file", "sha256", "severity", "message"])
    statuses = submission_statuses(submissions, ref, as_of, issues)
    keys = statuses["partner_id"] + "|" + statuses["period_id"]
    return statuses.set_index(keys.rename("key"), drop=False)


def signature(row: pd.Series) -> tuple[str | None, ...]:
    """What a partition shows, as a comparable value that JSON keeps (missing as None)."""
    return tuple(None if is_missing(row[c]) else str(row[c]) for c in SIGNATURE)


def rows_quarantined(state: SubmissionState, version: dict) -> int:
    """Rows of a version left out of the tables because of an error."""
    sheets = {sheet.name for sheet in reference().record_sheets}
    return len(
        {
            (i["sheet"], i["row"])
            for i in state.issues_of(version_key(version))
            if i["severity"] == "error" and i["sheet"] in sheets
        }
    )


def acceptance_failed(state: SubmissionState) -> bool:
    """Whether the folder holds a refused file of the partner-period."""
    return bool(state.refused)


def partition_metadata(row: pd.Series, state: SubmissionState, as_of: dt.date) -> dict[str, object]:
    """The materialization's metadata: the status in words first, then the version in use."""
    current = state.in_use
    days = row["days_late"]
    return {
        "status": explain(row, as_of),
        "file": str(current["file"]),
        "submitted on": str(current["submitted_on"] or "unknown"),
        "deadline": str(row["deadline"]),
        "days late": dg.MetadataValue.int(0 if is_missing(days) else int(days)),
        "errors": dg.MetadataValue.int(int(current["n_errors"])),
        "warnings": dg.MetadataValue.int(int(current["n_warnings"])),
        "rows quarantined": dg.MetadataValue.int(rows_quarantined(state, current)),
        "versions seen": dg.MetadataValue.int(len(state.versions)),
        "review status": "pending" if is_missing(row["review_status"]) else row["review_status"],
        "sha256": str(current["sha256"]),
        "dagster/row_count": dg.MetadataValue.int(state.n_rows),
    }


def acceptance_evaluation(
    row: pd.Series, state: SubmissionState, as_of: dt.date
) -> dg.AssetCheckEvaluation | None:
    """The partition's ``workbook_accepted`` check; None where the folder holds nothing
    of it (never sent, or every file removed)."""
    in_use = state.in_use
    if in_use is None and not state.refused:
        return None
    # The refused files the folder holds, as the one status function names them.
    failed = not is_missing(row["rejected_file"])
    metadata: dict[str, object] = {
        "status": explain(row, as_of),
        "latest file": str(row["rejected_file"] if failed else in_use["file"]),
    }
    severity = dg.AssetCheckSeverity.ERROR
    if failed:
        metadata["reason"] = str(row["reason"] or "refused")
        if in_use is None:
            metadata["in use"] = "nothing: every file in the folder was refused"
        else:
            metadata["in use"] = str(in_use["file"])
            severity = dg.AssetCheckSeverity.WARN
    return dg.AssetCheckEvaluation(
        asset_key=SUBMISSION,
        check_name=ACCEPTED_CHECK,
        passed=not failed,
        partition=row.name,
        severity=severity,
        metadata=metadata,
        description=explain(row, as_of),
    )


def deadline_evaluation(row: pd.Series, as_of: dt.date) -> dg.AssetCheckEvaluation:
    """The partition's ``submitted_by_deadline`` check, from its status."""
    status = row["status"]
    passed = status in (ON_TIME, NOT_YET_DUE) or (status == REJECTED and as_of <= row["deadline"])
    days = row["days_late"]
    metadata: dict[str, object] = {"status": explain(row, as_of), "deadline": str(row["deadline"])}
    if status == LATE and not is_missing(days):
        metadata["days late"] = dg.MetadataValue.int(int(days))
    return dg.AssetCheckEvaluation(
        asset_key=SUBMISSION,
        check_name=DEADLINE_CHECK,
        passed=passed,
        partition=row.name,
        severity=dg.AssetCheckSeverity.WARN if status == LATE else dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=explain(row, as_of),
    )


_CELL = {
    ON_TIME: "on time",
    LATE: "late",
    REJECTED: "REFUSED",
    MISSING: "MISSING",
    NOT_YET_DUE: "due",
    NOT_EXPECTED: "",
}
_REVIEW_WORD = {"approved": "approved", "sent_back": "sent back", "reopened": "reopened"}


def _cell(row: pd.Series, quarantined: int) -> str:
    text = _CELL[row["status"]]
    if row["status"] == LATE and not is_missing(row["days_late"]):
        text += f" {row['days_late']}d"
    if row["status"] == NOT_EXPECTED and not is_missing(row["rejected_file"]):
        text = "refused, not expected"
    if quarantined:
        text += f", {quarantined} rows out"
    if row["latest_rejected"]:
        text += ", latest REFUSED"
    review = None if is_missing(row["review_status"]) else _REVIEW_WORD.get(row["review_status"])
    return text + (f", {review}" if review else "")


LEGEND = (
    "on time / late Nd: accepted, N days after the deadline · REFUSED: files came, none"
    " accepted · MISSING: nothing received by the deadline · due: deadline ahead ·"
    " blank: not expected (the partner takes no part in the phase) · N rows out: rows"
    " quarantined · latest REFUSED: the latest upload was refused, an earlier version is"
    " used · approved / sent back / reopened: the coordinator's review"
)


def programme_grid(
    statuses: pd.DataFrame, states: dict[str, SubmissionState], ref: Reference
) -> dict[str, object]:
    """Every partner x period in words, and the counts by status, from the statuses."""
    lines = [
        "| partner | " + " | ".join(ref.period_ids) + " |",
        "|---" * (len(ref.period_ids) + 1) + "|",
    ]
    quarantined_total = 0
    for partner in ref.partner_ids:
        cells = []
        for period in ref.period_ids:
            key = f"{partner}|{period}"
            row = statuses.loc[key]
            in_use = row["status"] in (ON_TIME, LATE)
            current = states[key].in_use
            quarantined = rows_quarantined(states[key], current) if in_use and current else 0
            quarantined_total += quarantined
            cells.append(_cell(row, quarantined))
        lines.append(f"| {partner} {ref.partner_name(partner)} | " + " | ".join(cells) + " |")
    lines.append("\n" + LEGEND)
    return {
        **{name: dg.MetadataValue.int(n) for name, n in status_counts(statuses).items()},
        "rows quarantined": dg.MetadataValue.int(quarantined_total),
        "submissions": dg.MetadataValue.md("\n".join(lines)),
    }
