"""What each partner-period's submission stands at: one status, derived in one place.

A coordinator chases partners by these statuses, so they must not blur: a workbook that
came in and was refused is not "missing" (the partner did send something and needs to
know why it was refused), a period whose deadline is still ahead is not "missing" yet,
and a partner-period whose latest upload was refused while an earlier version is still
in use is flagged, even though its figures come from an accepted workbook. What counts
is what the drop folder holds now: a file that left it stops counting against its
partner-period.

The report, the completeness table and the Dagster UI all read the statuses from
``submission_statuses``, so they never disagree.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.enumerations import (
    ACCEPTED,
    LATE,
    MISSING,
    NOT_EXPECTED,
    NOT_YET_DUE,
    ON_TIME,
    REJECTED,
)
from pipelines.core.reference.model import Reference

# Each status in the words a coordinator reads on every surface (UI, run summary).
STATUS_WORDS = {
    ON_TIME: "on time",
    LATE: "late",
    REJECTED: "refused",
    MISSING: "missing",
    NOT_YET_DUE: "not yet due",
    NOT_EXPECTED: "not expected",
}
# Statuses that ask the coordinator to act: chase, or ask for a corrected workbook.
NEEDS_ACTION = (REJECTED, MISSING)

STATUS_COLUMNS = [
    "partner_id",
    "period_id",
    "status",
    "deadline",
    "file",
    "sha256",
    "submitted_on",
    "days_late",
    "latest_rejected",
    "rejected_file",
    "reason",
    "review_status",
]


def _flag(value: object) -> bool:
    return False if is_missing(value) else bool(value)


def _in_seen_order(submissions: pd.DataFrame) -> pd.DataFrame:
    """Versions oldest first: by first_seen_at, ties (one run) in the order listed."""
    seen = pd.to_datetime(submissions["first_seen_at"], utc=True, errors="coerce")
    return submissions.assign(_seen=seen).sort_values("_seen", kind="stable", na_position="first")


def _reasons(issues: pd.DataFrame | None) -> dict[tuple[str, str], str]:
    """The errors of each file version (by file and SHA-256), joined: why it was refused."""
    if issues is None or issues.empty:
        return {}
    errors = issues[issues["severity"] == "error"]
    return {
        (file, sha): "; ".join(dict.fromkeys(group["message"].astype(str)))
        for (file, sha), group in errors.groupby(["file", "sha256"], sort=False)
    }


def _status_row(
    partner_id: str,
    period_id: str,
    versions: list[dict],
    deadline: dt.date,
    as_of: dt.date,
    reasons: dict[tuple[str, str], str],
    expected: bool,
) -> dict[str, object]:
    in_use = next((v for v in versions if _flag(v["current"])), None)
    # Only what the folder holds now counts against the partner-period.
    refused = [v for v in versions if _flag(v["in_folder"]) and v["status"] != ACCEPTED]
    latest = refused[-1] if refused else None
    why = dict.fromkeys(reasons.get((v["file"], v["sha256"])) for v in refused) if refused else {}
    reviewed = (v.get("review_status") for v in versions)
    row: dict[str, object] = {
        "partner_id": partner_id,
        "period_id": period_id,
        "deadline": deadline,
        "file": None,
        "sha256": None,
        "submitted_on": None,
        "days_late": None,
        "latest_rejected": bool(refused) and in_use is not None,
        "rejected_file": ", ".join(v["file"] for v in refused) or None,
        "reason": "; ".join(r for r in why if r) or None,
        "review_status": next((r for r in reviewed if not is_missing(r)), None),
    }
    if not expected:
        row["status"] = NOT_EXPECTED  # a file that came anyway is refused, with its reason
    elif in_use is not None:
        # On time when any accepted version was in by the deadline: a correction sent
        # later does not make a report that arrived in time late.
        accepted = [v for v in versions if v["status"] == ACCEPTED or v is in_use]
        punctual = any(_flag(v["on_time"]) for v in accepted)
        first = next((v for v in accepted if not is_missing(v["submitted_on"])), None)
        late_by = (pd.Timestamp(first["submitted_on"]).date() - deadline).days if first else None
        row |= {
            "status": ON_TIME if punctual else LATE,
            "file": in_use["file"],
            "sha256": in_use["sha256"],
            "submitted_on": in_use["submitted_on"],
            "days_late": None if punctual or late_by is None else max(late_by, 1),
        }
    elif latest is not None:
        row |= {"status": REJECTED, "file": latest["file"], "sha256": latest["sha256"]}
    else:
        row["status"] = NOT_YET_DUE if as_of <= deadline else MISSING
    return row


def submission_statuses(
    submissions: pd.DataFrame,
    ref: Reference,
    as_of: dt.date,
    issues: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per partner x period of the project, expected or not, with its status.

    This is the one place a partner-period's status is decided (SPEC section 10). Its
    inputs are those the spec names, as the published tables carry them:
    ``submissions`` (every file version seen, by file and SHA-256: ``in_folder`` is
    what the drop folder holds now, ``current`` the version in use, ``review_status``
    the review ledger's verdict), ``issues`` (``validation_issues``, for a refused
    workbook's reason) and ``as_of``, the date of the run: an expected workbook with
    nothing received is ``not_yet_due`` until its deadline has passed, then ``missing``.

    Statuses: ``on_time`` / ``late`` (a version is in use; late when no accepted version
    came by the deadline, ``days_late`` counting from the first accepted one),
    ``rejected`` (the folder holds refused files and nothing is in use; ``reason``
    says why), ``missing``, ``not_yet_due``, ``not_expected`` (the partner takes no part
    in the period's phase). ``latest_rejected`` is true when the folder holds a refused
    file while a version is in use; ``rejected_file`` names the refused files in the
    folder. A file that left the folder counts for nothing here: only its history stays.
    """
    reasons = _reasons(issues)
    versions: dict[tuple[str, str], list[dict]] = {}
    if not submissions.empty:
        ordered = _in_seen_order(submissions)
        for v in ordered.to_dict("records"):
            if not is_missing(v["partner_id"]) and not is_missing(v["period_id"]):
                versions.setdefault((v["partner_id"], v["period_id"]), []).append(v)
    rows = []
    for partner_id in ref.partner_ids:
        for period_id in ref.period_ids:
            rows.append(
                _status_row(
                    partner_id,
                    period_id,
                    versions.get((partner_id, period_id), []),
                    ref.period(period_id)["deadline"],
                    as_of,
                    reasons,
                    ref.takes_part(partner_id, period_id),
                )
            )
    frame = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    return frame.astype({"days_late": "Int64", "latest_rejected": bool})


def explain(row: pd.Series | dict, as_of: dt.date) -> str:
    """One partner-period's status row (of :func:`submission_statuses`) in one line of words.

    ``late: accepted 22 days after the deadline (2020-06-30)``, ``refused: <why>``,
    ``missing: nothing received, due 2020-06-30 (155 days ago)``; a latest upload refused
    while an earlier version is in use is said after the status of the version in use.
    """
    status, deadline = row["status"], row["deadline"]
    text = STATUS_WORDS[status]
    if status == ON_TIME:
        text += f": accepted by the deadline ({deadline})"
    elif status == LATE:
        days = row["days_late"]
        late = "after the deadline" if is_missing(days) else f"{days} days after the deadline"
        text += f": accepted {late} ({deadline})"
    elif status == REJECTED:
        text += f": {row['reason'] or 'the workbook was refused'}; nothing of it is used"
    elif status == MISSING:
        text += f": nothing received, due {deadline} ({(as_of - deadline).days} days ago)"
    elif status == NOT_YET_DUE:
        text += f": due {deadline}"
    if _flag(row["latest_rejected"]):
        reason = row["reason"] or "refused"
        upload = row["rejected_file"]
        text += f"; latest upload {upload} refused ({reason}), the earlier one is used"
    return text
