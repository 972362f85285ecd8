"""What a period's kept progress rests on: the versions in use up to it, and the inputs."""

from __future__ import annotations

from pipelines.core.indicators.progress_store import period_digests
from pipelines.core.reference.loader import reference
from pipelines.core.state.versions import SubmissionState

REF = reference()


def _in_use(partner: str, period: str, sha256: str) -> SubmissionState:
    version = {"file": f"{partner}/{period}.xlsx", "sha256": sha256, "current": True}
    return SubmissionState(partner, period, versions=[version])


def test_a_new_version_moves_its_period_and_the_later_ones_only():
    before = period_digests([_in_use("P4", "RP03", "a"), _in_use("P1", "RP05", "b")], REF, "x")
    after = period_digests([_in_use("P4", "RP03", "c"), _in_use("P1", "RP05", "b")], REF, "x")
    moved = [p for p in REF.period_ids if before[p] != after[p]]
    assert moved == REF.period_ids[REF.period_ids.index("RP03") :]


def test_other_inputs_move_every_period():
    states = [_in_use("P4", "RP03", "a")]
    before, after = period_digests(states, REF, "x"), period_digests(states, REF, "y")
    assert all(before[p] != after[p] for p in REF.period_ids)
