"""What a period's kept progress rests on: the versions in use up to it, and the inputs."""

from __future__ import annotations

from decimal import Decimal

from pipelines.core.indicators.progress_store import PROGRESS_FILE, KeptProgress, period_digests
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


def test_kept_figures_are_used_only_under_their_digest(tmp_path):
    digests = {"RP01": "a", "RP02": "b"}
    computed = []

    def compute(period):
        computed.append(period)
        return {"O1": Decimal(len(computed)), "C1": None}

    first = KeptProgress(tmp_path, digests, compute)
    assert [first.figures(p) for p in digests] == [
        {"O1": Decimal(1), "C1": None},
        {"O1": Decimal(2), "C1": None},
    ]
    first.save()
    again = KeptProgress(tmp_path, {"RP01": "a", "RP02": "changed"}, compute)
    assert again.figures("RP01") == {"O1": Decimal(1), "C1": None}
    assert again.figures("RP02") == {"O1": Decimal(3), "C1": None}
    assert (again.computed, computed) == (1, ["RP01", "RP02", "RP02"])


def test_a_foreign_or_damaged_file_means_computing_everything(tmp_path):
    (tmp_path / PROGRESS_FILE).write_text('{"RP01": {"digest": "a"}, "RP02": 3}')
    kept = KeptProgress(tmp_path, {"RP01": "a", "RP02": "b"}, lambda p: {"O1": Decimal(7)})
    assert kept.figures("RP01") == kept.figures("RP02") == {"O1": Decimal(7)}
    assert kept.computed == 2
