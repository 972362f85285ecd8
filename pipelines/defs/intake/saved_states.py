"""What the ingest step keeps between runs, as the other steps read it: every
partner-period's state and the files of the drop folder that belong to none."""

from __future__ import annotations

from pipelines.core.reference.loader import reference
from pipelines.core.state.store import load_record, load_states, save_record
from pipelines.core.state.versions import Outcome, SubmissionState
from pipelines.defs.resources import ClusterixPaths

STRAYS = "unattributed_files"


def all_states(paths: ClusterixPaths) -> dict[str, SubmissionState]:
    """Every partner x period's state (expected or not), keyed ``partner|period``."""
    ref = reference()
    pairs = [(p, q) for p in ref.partner_ids for q in ref.period_ids]
    return load_states(paths.state, pairs)


_STRAY_FIELDS = ("file", "sha256", "partner_id", "period_id", "status", "seen_at")


def _stray_document(outcome: Outcome) -> dict[str, object]:
    return {
        **{name: getattr(outcome, name) for name in _STRAY_FIELDS},
        "issues": [dict(issue) for issue in outcome.issues],
    }


def _strays_of(document: object) -> list[Outcome]:
    """The stray outcomes a saved document holds (raises for one that holds others)."""
    return [
        Outcome(**{name: d[name] for name in _STRAY_FIELDS}, issues=[dict(i) for i in d["issues"]])
        for d in document
    ]


def stray_outcomes(paths: ClusterixPaths) -> list[Outcome]:
    """The files of the drop folder that belong to no partner-period, as last ingested."""
    return load_record(paths.state, STRAYS, _strays_of, [])


def save_strays(paths: ClusterixPaths, outcomes: list[Outcome]) -> None:
    """Keep the outcomes of the files of no partner-period for the steps that list them."""
    save_record(paths.state, STRAYS, [_stray_document(o) for o in outcomes])
