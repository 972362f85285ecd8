"""Indicators over the approved partner-periods only (DHIS2's approved data)."""

from __future__ import annotations

from collections.abc import Iterable

from pipelines.core.indicators.compute import IndicatorResult, compute_indicators
from pipelines.core.reference.model import Reference
from pipelines.core.state.facts import resolve_facts
from pipelines.core.state.review import Ledger
from pipelines.core.state.submissions import current_records
from pipelines.core.state.versions import SubmissionState


def approved_indicators(
    ledger: Ledger, states: Iterable[SubmissionState], ref: Reference
) -> dict[str, IndicatorResult]:
    """Every indicator from the approved partner-periods only: the same computation as the
    published figures, over the records of the approved versions (DHIS2's approved data)."""
    records = current_records(ledger.approved(states))
    return compute_indicators(resolve_facts(records, ref, with_issues=False).tables, ref)
