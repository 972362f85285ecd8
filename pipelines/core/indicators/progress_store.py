"""Indicator progress kept between runs: a period's figures are computed again only when
what they rest on changed.

The figures after a period rest on the versions in use of the workbooks of that period
and the earlier ones, and on the code and the project folder (``inputs``). Each period
is kept with a digest of exactly that, so a corrected workbook of the latest period
recomputes that period alone, and one of an early period every period from it on. The
file is a cache: a missing, unreadable or foreign file only means everything is computed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

from pipelines.core.indicators.compute import Achieved
from pipelines.core.reference.model import Reference
from pipelines.core.state.versions import SubmissionState
from pipelines.platform.files import write_atomic

PROGRESS_FILE = "indicator_progress.json"


def period_digests(
    states: Iterable[SubmissionState], ref: Reference, inputs: str
) -> dict[str, str]:
    """For each period, a digest of ``inputs`` and of the version in use of every
    partner-period up to and including it."""
    in_use: dict[str, list[str]] = {}
    for state in states:
        in_use.setdefault(state.period_id, []).append(
            f"{state.partner_id}:{state.current_sha256 or ''}"
        )
    digest = hashlib.sha256(inputs.encode())
    digests = {}
    for period in ref.period_ids:
        versions = "\n".join(sorted(in_use.get(period, [])))
        digest.update(f"{period}\n{versions}\n".encode())
        digests[period] = digest.copy().hexdigest()
    return digests


def _read(path: Path) -> dict[str, dict]:
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return kept if isinstance(kept, dict) else {}


def _figures_of(entry: object, digest: str) -> Achieved | None:
    """A kept period's figures when they were kept under ``digest``, else None."""
    if not isinstance(entry, dict) or entry.get("digest") != digest:
        return None
    try:
        return {i: None if v is None else Decimal(v) for i, v in entry["achieved"].items()}
    except (KeyError, AttributeError, TypeError, ArithmeticError):
        return None


class KeptProgress:
    """Each period's figures, kept from an earlier run when its digest is unchanged, else
    computed with ``compute``; :meth:`save` keeps what this run used."""

    def __init__(
        self, state_dir: Path, digests: dict[str, str], compute: Callable[[str], Achieved]
    ) -> None:
        self._path = state_dir / PROGRESS_FILE
        self._kept = _read(self._path)
        self._digests = digests
        self._compute = compute
        self._used: dict[str, Achieved] = {}
        self.computed = 0

    def figures(self, period: str) -> Achieved:
        achieved = _figures_of(self._kept.get(period), self._digests[period])
        if achieved is None:
            achieved = self._compute(period)
            self.computed += 1
        self._used[period] = achieved
        return achieved

    def save(self) -> None:
        used = {
            period: {
                "digest": self._digests[period],
                "achieved": {i: None if v is None else str(v) for i, v in achieved.items()},
            }
            for period, achieved in self._used.items()
        }
        text = json.dumps(used, sort_keys=True)
        write_atomic(self._path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
