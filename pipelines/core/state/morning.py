"""The coordinator's morning: what needs action today, in a few small tables.

Everything here is read from the statuses of
:func:`pipelines.core.state.completeness.submission_statuses` and the published tables, so the
morning page says what the report, the partition view and the grid say.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.enumerations import MISSING, NOT_EXPECTED, REJECTED
from pipelines.core.reference.model import Reference
from pipelines.core.state.completeness import NEEDS_ACTION, STATUS_WORDS, explain

SENT_BACK = "sent_back"
LATEST_REFUSED = "latest upload refused"
_ACTION_WORDS = {
    REJECTED: STATUS_WORDS[REJECTED],
    LATEST_REFUSED: LATEST_REFUSED,
    SENT_BACK: "sent back",
    MISSING: STATUS_WORDS[MISSING],
}
_ORDER = {action: i for i, action in enumerate(_ACTION_WORDS)}


def status_counts(statuses: pd.DataFrame) -> dict[str, int]:
    """Expected partner-periods by status (in words), and latest uploads refused."""
    counts = statuses["status"].value_counts()
    shown = {STATUS_WORDS[s]: int(counts.get(s, 0)) for s in STATUS_WORDS if s != NOT_EXPECTED}
    shown[LATEST_REFUSED] = int(statuses["latest_rejected"].sum())
    return shown


def _action(row: pd.Series) -> str | None:
    if row["status"] in NEEDS_ACTION:
        return row["status"]
    if row["latest_rejected"]:
        return LATEST_REFUSED
    if row["review_status"] == SENT_BACK:
        return SENT_BACK
    return None


def needing_action(statuses: pd.DataFrame, ref: Reference, as_of: dt.date) -> pd.DataFrame:
    """Partner-periods the coordinator must act on, most urgent first.

    Refused with nothing in use, latest upload refused, sent back and not yet corrected,
    missing past the deadline; with the reason in words and the days since the deadline.
    """
    rows = []
    for _, row in statuses.iterrows():
        action = _action(row)
        if action is None:
            continue
        past = (as_of - row["deadline"]).days
        rows.append(
            {
                "partner": f"{row['partner_id']} {ref.partner_name(row['partner_id'])}",
                "period": row["period_id"],
                "status": _ACTION_WORDS[action],
                "days past deadline": max(past, 0),
                "reason": explain(row, as_of),
                "_order": _ORDER[action],
            }
        )
    columns = ["partner", "period", "status", "days past deadline", "reason"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows).sort_values(
        ["_order", "days past deadline"], ascending=[True, False], kind="stable"
    )
    return frame[columns].reset_index(drop=True)


def open_issues_by_partner(issues: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """Open errors and warnings per partner (``validation_issues`` with ``is_open``)."""
    is_open = issues["is_open"].astype("boolean").fillna(False).astype(bool)
    mine = issues[is_open & issues["partner_id"].isin(ref.partner_ids)]
    rows = []
    for partner in ref.partner_ids:
        found = mine[mine["partner_id"] == partner]
        errors = int((found["severity"] == "error").sum())
        if len(found):
            rows.append(
                {
                    "partner": f"{partner} {ref.partner_name(partner)}",
                    "errors": errors,
                    "warnings": len(found) - errors,
                }
            )
    return pd.DataFrame(rows, columns=["partner", "errors", "warnings"])


def elapsed_share(ref: Reference, as_of: dt.date) -> Decimal:
    """The share of the project's reporting time gone by ``as_of``, 0 to 1."""
    periods = [ref.period(p) for p in ref.period_ids]
    start = min(p["start_date"] for p in periods)
    end = max(p["end_date"] for p in periods)
    gone = (min(max(as_of, start), end) - start).days
    return Decimal(gone) / Decimal((end - start).days)


def behind_plan(scorecard: pd.DataFrame, ref: Reference, as_of: dt.date) -> pd.DataFrame:
    """Indicators below the share of their target that the elapsed time calls for.

    The plan is pro rata: halfway through the project, half the target. An indicator
    with no value yet is behind plan once any time has gone by.
    """
    share = elapsed_share(ref, as_of)
    rows = []
    for r in scorecard.itertuples(index=False):
        planned = (r.target * share).quantize(Decimal("0.01"))
        achieved = None if is_missing(r.achieved) else r.achieved
        if planned > 0 and (achieved is None or achieved < planned):
            rows.append(
                {
                    "indicator": f"{r.indicator_id} {r.name}",
                    "unit": r.unit,
                    "achieved": achieved,
                    "planned by now": planned,
                    "target": r.target,
                }
            )
    return pd.DataFrame(rows, columns=["indicator", "unit", "achieved", "planned by now", "target"])
