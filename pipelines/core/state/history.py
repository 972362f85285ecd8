"""What the current facts forget: when each good practice reached each stage.

The fact tables keep the latest row per key, so a practice that moved from
``identified`` to ``structured`` shows only ``structured``. The workbooks in use for
every period still hold the earlier rows; this module reads the history from them, so
an analyst need not parse archived workbooks to see how practices progressed.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from pipelines.core.metadata.fields import PRACTICE_STAGES
from pipelines.core.metadata.tables import GOOD_PRACTICE_STAGE_HISTORY
from pipelines.core.reference.model import Reference
from pipelines.core.state.facts import conform


def good_practice_stage_history(
    records: Mapping[str, pd.DataFrame], ref: Reference
) -> pd.DataFrame:
    """One row per practice and stage reported, with the first period that reported it.

    ``records`` are the rows of every partner-period's version in use (as for
    :func:`pipelines.core.state.facts.resolve_facts`); a stage a practice went back to is
    listed once, at the period it was first reported.
    """
    practices = records.get("good_practices")
    if practices is None or practices.empty:
        return conform(pd.DataFrame(), GOOD_PRACTICE_STAGE_HISTORY)
    period_rank = {p: i for i, p in enumerate(ref.period_ids)}
    partner_rank = {p: i for i, p in enumerate(ref.partner_ids)}
    stage_rank = {s: i for i, s in enumerate(PRACTICE_STAGES)}
    frame = practices[["partner_id", "practice_ref", "stage", "period_id"]].assign(
        _period=practices["period_id"].map(period_rank)
    )
    first = (
        frame.sort_values("_period", kind="stable")
        .drop_duplicates(["partner_id", "practice_ref", "stage"], keep="first")
        .rename(columns={"period_id": "first_reported_period_id"})
    )
    first = first.assign(
        _partner=first["partner_id"].map(partner_rank), _stage=first["stage"].map(stage_rank)
    ).sort_values(["_partner", "practice_ref", "_period", "_stage"], kind="stable")
    return conform(first.reset_index(drop=True), GOOD_PRACTICE_STAGE_HISTORY)
