"""Combining the partner-period states into what is published about submissions.

The published ``submissions`` table lists every file version seen; the records
behind the fact tables come from the current (last accepted) version of each
partner-period only; and ``validation_issues`` holds what a partner still has to act
on: the issues of the version seen last and of the version in use, when they differ,
plus every file that could not be attributed to a partner-period.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from pipelines.core.facts import conform
from pipelines.core.ingest import Outcome, SubmissionState, empty_records
from pipelines.core.tables import SUBMISSIONS, VALIDATION_ISSUES
from pipelines.core.validation import issues_frame


def current_records(states: Iterable[SubmissionState]) -> dict[str, pd.DataFrame]:
    """Valid rows of every partner-period's current version, per fact table."""
    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in empty_records()}
    for state in states:
        for name, frame in state.records.items():
            if not frame.empty:
                frames[name].append(frame)
    return {
        name: pd.concat(parts, ignore_index=True) if parts else empty_records()[name]
        for name, parts in frames.items()
    }


def submissions_table(states: Iterable[SubmissionState], strays: Iterable[Outcome]) -> pd.DataFrame:
    """One row per file version seen, attributed or not (SUBMISSIONS)."""
    rows = [v for s in states for v in s.versions]
    rows += [o.submission_row(current=False) for o in strays]
    return conform(pd.DataFrame(rows, columns=SUBMISSIONS.column_names), SUBMISSIONS)


def _open_issues(state: SubmissionState) -> list[dict]:
    latest = state.latest
    if latest is None:
        return []
    return state.issues_of(latest["sha256"], state.current_sha256)


def issues_table(
    states: Iterable[SubmissionState], strays: Iterable[Outcome], extra: Iterable[pd.DataFrame] = ()
) -> pd.DataFrame:
    """The issues partners still have to act on (VALIDATION_ISSUES)."""
    rows = [i for s in states for i in _open_issues(s)] + [i for o in strays for i in o.issues]
    parts = [issues_frame(rows), *extra]
    parts = [p for p in parts if not p.empty]
    frame = pd.concat(parts, ignore_index=True) if parts else issues_frame([])
    order = {"error": 0, "warning": 1}
    frame = frame.sort_values(
        ["partner_id", "period_id", "file", "sheet", "row"],
        key=lambda s: s.map(order) if s.name == "severity" else s,
        na_position="first",
        kind="stable",
    )
    return conform(frame.reset_index(drop=True), VALIDATION_ISSUES)
