"""The coordinator's review of a partner-period: approve, send back, reopen.

Every decision is one line of an append-only JSON-lines ledger in the state directory
(``reviews/ledger.jsonl``); nothing else holds review state, so the published tables,
the lock on ingest and the UI are all derived from the same lines. A line is appended
under an exclusive lock and fsynced before the lock is released, and readers take a
shared lock, so nobody ever reads half a decision. The checks that decide whether a
decision may be recorded run under the same lock, so two coordinators cannot reopen
or approve the same partner-period on a stale view of each other.

Semantics (SPEC section 9): the last decision on a partner-period rules. ``approve``
locks the version in use (a later file is refused at ingest with rule
``period_locked``); ``send_back`` and ``reopen`` leave it unlocked. A sent-back or
reopened partner-period shows that status until a new version is in use, then
``pending`` again, as does a partner-period nobody has decided on.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import pandas as pd

from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.enumerations import (
    APPROVE,
    APPROVED,
    PENDING,
    REOPEN,
    REOPENED,
    REVIEW_DECISIONS,
    SEND_BACK,
    SENT_BACK,
)
from pipelines.core.metadata.tables import REVIEWS
from pipelines.core.reference.model import Reference
from pipelines.core.state.facts import conform
from pipelines.core.state.store import load_state
from pipelines.core.state.versions import SubmissionState

LEDGER = Path("reviews") / "ledger.jsonl"

_STATUS_AFTER = {APPROVE: APPROVED, SEND_BACK: SENT_BACK, REOPEN: REOPENED}

PairKey = tuple[str, str]


class ReviewError(ValueError):
    """A decision that may not be recorded; the message says why and what to do."""


@dataclass(frozen=True)
class Decision:
    """One line of the ledger: who decided what, when, about which exact version."""

    decided_at: str
    decided_by: str
    partner_id: str
    period_id: str
    decision: str
    note: str
    sha256: str

    @property
    def key(self) -> PairKey:
        return self.partner_id, self.period_id


def ledger_path(state_dir: Path) -> Path:
    return state_dir / LEDGER


@contextmanager
def _locked(path: Path, mode: str, lock: int) -> Iterator[IO[str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode, encoding="utf-8") as handle:
        fcntl.flock(handle, lock)
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _parse(text: str) -> list[Decision]:
    """Complete lines only: a line cut short by a crash is not a decision."""
    lines = text.split("\n")[:-1]
    return [Decision(**json.loads(line)) for line in lines if line.strip()]


class Ledger:
    """Every decision recorded, in order, with what follows from them."""

    def __init__(self, decisions: Iterable[Decision] = ()) -> None:
        self.decisions = list(decisions)
        self._last: dict[PairKey, Decision] = {d.key: d for d in self.decisions}

    @classmethod
    def read(cls, state_dir: Path) -> Ledger:
        path = ledger_path(state_dir)
        if not path.exists():
            return cls()
        with _locked(path, "r", fcntl.LOCK_SH) as handle:
            return cls(_parse(handle.read()))

    def last(self, partner_id: str, period_id: str) -> Decision | None:
        return self._last.get((partner_id, period_id))

    def locks(self) -> dict[PairKey, str]:
        """The approved SHA-256 of every locked partner-period."""
        return {key: d.sha256 for key, d in self._last.items() if d.decision == APPROVE}

    def status(self, partner_id: str, period_id: str, current_sha256: str | None) -> str:
        """The review status of a partner-period whose version in use is ``current_sha256``.

        This is the one place the status is worked out; the tables, the report, the
        completeness grid and the UI all ask here.
        """
        last = self.last(partner_id, period_id)
        if last is None:
            return PENDING
        if last.decision != APPROVE and last.sha256 != current_sha256:
            return PENDING  # a new version is in use since it was sent back or reopened
        return _STATUS_AFTER[last.decision]

    def state_status(self, state: SubmissionState) -> str:
        return self.status(state.partner_id, state.period_id, state.current_sha256)

    def approved(self, states: Iterable[SubmissionState]) -> list[SubmissionState]:
        """The states whose version in use is the approved one (DHIS2's approved data)."""
        locks = self.locks()
        return [
            s
            for s in states
            if s.current_sha256 and locks.get((s.partner_id, s.period_id)) == s.current_sha256
        ]

    def sent_back(self, state: SubmissionState) -> Decision | None:
        """The send-back decision the partner must still act on (no new version yet)."""
        last = self.last(state.partner_id, state.period_id)
        return last if self.state_status(state) == SENT_BACK else None

    def with_review_status(self, submissions: pd.DataFrame) -> pd.DataFrame:
        """The SUBMISSIONS frame with each partner-period's status on all its versions."""
        current = {
            (p, q): sha
            for p, q, sha, is_current in zip(
                submissions["partner_id"],
                submissions["period_id"],
                submissions["sha256"],
                submissions["current"],
                strict=True,
            )
            if not is_missing(is_current) and bool(is_current)
        }
        statuses = [
            None if is_missing(p) or is_missing(q) else self.status(p, q, current.get((p, q)))
            for p, q in zip(submissions["partner_id"], submissions["period_id"], strict=True)
        ]
        return submissions.assign(
            review_status=pd.Series(statuses, index=submissions.index, dtype=object)
        )

    def table(self) -> pd.DataFrame:
        """Every decision, one row each, numbered in ledger order (REVIEWS)."""
        rows = [{"review_no": n, **asdict(d)} for n, d in enumerate(self.decisions, start=1)]
        return conform(pd.DataFrame(rows, columns=REVIEWS.column_names), REVIEWS)


def _check(ledger: Ledger, state: SubmissionState, decision: str, note: str, by: str) -> str:
    """The SHA-256 the decision concerns, or the reason it may not be recorded."""
    pair = f"{state.partner_id} {state.period_id}"
    if decision not in REVIEW_DECISIONS:
        raise ReviewError(
            f"unknown decision '{decision}': use one of {', '.join(REVIEW_DECISIONS)}"
        )
    if not by.strip():
        raise ReviewError("say who decides (--by NAME)")
    current = state.current_sha256
    if current is None:
        raise ReviewError(
            f"{pair} has no workbook version in use: nothing to review"
            " (run the pipeline first if a workbook was just dropped)"
        )
    last = ledger.last(state.partner_id, state.period_id)
    locked = last is not None and last.decision == APPROVE
    if decision == REOPEN and not locked:
        raise ReviewError(f"{pair} is not locked (not approved): nothing to reopen")
    if decision == APPROVE and locked:
        raise ReviewError(f"{pair} is already approved (version {last.sha256[:12]})")
    if decision == SEND_BACK and not note.strip():
        raise ReviewError("a send-back needs a note telling the partner what to correct (--note)")
    return current


def record(
    state_dir: Path,
    ref: Reference,
    decision: str,
    partner_id: str,
    period_id: str,
    *,
    note: str = "",
    by: str,
    now: dt.datetime | None = None,
) -> Decision:
    """Check a decision and append it to the ledger; raise ReviewError and write nothing if
    it may not be recorded (unknown partner or period, nothing in use, nothing to reopen).
    """
    if partner_id not in ref.partner_ids:
        raise ReviewError(f"unknown partner '{partner_id}': one of {', '.join(ref.partner_ids)}")
    if period_id not in ref.period_ids:
        raise ReviewError(f"unknown period '{period_id}': one of {', '.join(ref.period_ids)}")
    state = load_state(state_dir, partner_id, period_id)
    _check(Ledger.read(state_dir), state, decision, note, by)  # a refusal creates no file
    with _locked(ledger_path(state_dir), "a+", fcntl.LOCK_EX) as handle:
        handle.seek(0)
        text = handle.read()
        # Again under the lock: another decision may have landed since.
        sha = _check(Ledger(_parse(text)), state, decision, note, by)
        entry = Decision(
            decided_at=(now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat(),
            decided_by=by.strip(),
            partner_id=partner_id,
            period_id=period_id,
            decision=decision,
            note=note.strip(),
            sha256=sha,
        )
        if text and not text.endswith("\n"):
            handle.truncate(text.rfind("\n") + 1)  # drop a line a crash cut short
        handle.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return entry
