"""Combining the partner-period states into what is published about submissions.

The published ``submissions`` table lists every file version seen; the records
behind the fact tables come from the current (last accepted) version of each
partner-period only; and ``validation_issues`` holds what a partner still has to act
on (``is_open``: the issues of the files in the folder now and of the version in use),
the issues of earlier and removed versions for the record, and every file that could
not be attributed to a partner-period.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable

import pandas as pd

from pipelines.core.intake.issues import issues_frame
from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.tables import SUBMISSIONS, VALIDATION_ISSUES
from pipelines.core.state.facts import conform
from pipelines.core.state.record_columns import RecordColumns, joined
from pipelines.core.state.versions import Outcome, SubmissionState, empty_records, version_key

# The states and records of the latest calls, newest first (see current_records): two,
# since a run asks for all states' records and, between, for the approved ones only.
_RECENT: list[tuple[tuple[SubmissionState, ...], dict[str, pd.DataFrame]]] = []
_KEEP = 2


def current_records(states: Iterable[SubmissionState]) -> dict[str, pd.DataFrame]:
    """Valid rows of every partner-period's current version, per fact table.

    Three steps of a run ask for the records of the same states; joining every
    partner-period's columns is the one costly part (about 1 s at 100x).
    States are never changed in place (``SubmissionState.apply`` returns a new one), so
    the very same state objects give the same records: a recent result is reused. The
    frames are shared; callers derive new frames from them and never modify them.
    """
    # Only states with rows count: a partner-period never ingested is a new, empty
    # state object at every load, and must not make the same records look new.
    contributing = tuple(s for s in states if s.columns)
    for seen, seen_records in _RECENT:
        if len(seen) == len(contributing) and all(map(operator.is_, seen, contributing)):
            return dict(seen_records)
    parts: dict[str, list[RecordColumns]] = {name: [] for name in empty_records()}
    for state in contributing:
        for name, columns in state.columns.items():
            parts.setdefault(name, []).append(columns)  # a project's own sheets too
    records = {
        name: joined(found) if found else empty_records()[name] for name, found in parts.items()
    }
    _RECENT[:] = [(contributing, records), *_RECENT][:_KEEP]
    return dict(records)


def submissions_table(states: Iterable[SubmissionState], strays: Iterable[Outcome]) -> pd.DataFrame:
    """One row per file version seen, attributed or not (SUBMISSIONS)."""
    rows = [v for s in states for v in s.versions]
    rows += [o.submission_row(current=False) for o in strays]
    return conform(pd.DataFrame(rows, columns=SUBMISSIONS.column_names), SUBMISSIONS)


def issue_id(issue: dict) -> str:
    """A stable id for an issue: the same finding in the same file and bytes keeps its id,
    and the same finding in a copy of those bytes under another name has its own."""
    keys = ("file", "sha256", "sheet", "row", "column", "rule", "message")
    text = "\x1f".join("" if is_missing(p) else str(p) for p in map(issue.get, keys))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def issues_table(
    states: Iterable[SubmissionState], strays: Iterable[Outcome], extra: Iterable[pd.DataFrame] = ()
) -> pd.DataFrame:
    """Every issue of every version seen, ``is_open`` for the ones to act on (VALIDATION_ISSUES).

    Issues of the versions in the folder now, and of the version in use while its file is
    there, are open (``SubmissionState.open_keys``); those of versions since replaced or
    removed are kept for the record, closed. Issues found across partners
    (``extra``, e.g. probable duplicates) and those of unattributable files are open.
    """
    rows = []
    for state in states:
        open_versions = state.open_keys
        rows += [{**i, "is_open": version_key(i) in open_versions} for i in state.issues]
    rows += [{**i, "is_open": True} for o in strays for i in o.issues]
    parts = [issues_frame(rows).assign(is_open=[r["is_open"] for r in rows])]
    parts += [p.assign(is_open=True) for p in extra if not p.empty]
    parts = [p for p in parts if not p.empty]
    frame = pd.concat(parts, ignore_index=True) if parts else issues_frame([]).assign(is_open=[])
    order = {"error": 0, "warning": 1}
    frame = frame.sort_values(
        ["partner_id", "period_id", "file", "sheet", "row"],
        key=lambda s: s.map(order) if s.name == "severity" else s,
        na_position="first",
        kind="stable",
    )
    frame = frame.assign(issue_id=[issue_id(r) for r in frame.to_dict("records")])
    frame = frame.drop_duplicates("issue_id").rename(
        columns={"row": "sheet_row", "column": "sheet_column"}
    )
    return conform(frame.reset_index(drop=True), VALIDATION_ISSUES)
