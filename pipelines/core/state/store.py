"""Where each partner-period's :class:`SubmissionState` is kept between runs.

The state is internal to the pipeline (the published tables are derived from it), so
it is stored as one pickle per partner-period under the state directory
(``CLUSTERIX_STATE_DIR``), never under the assets directory that BI users read: exact
types (dates, Decimals) round-trip, and each file is replaced atomically.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable
from pathlib import Path

from pipelines.core.intake.ingest import SubmissionState
from pipelines.core.outputs.parquet import write_atomic

# Bumped whenever SubmissionState changes shape: states of another format are then
# ignored and the files in raw/ ingested afresh, rather than misread.
STATE_FORMAT = "submissions-v3"
ARCHIVE_DIR = "archive"
# Other pickled state (the files no partner-period owns), format versioned like the states.
ASSET_STATE_FORMAT = "assets-v2"


# Keyed by the state file's path as text: several steps of a run each load every state
# (12,100 at 100x), and building pathlib paths cost more than the stat that checks them.
_CACHE: dict[str, tuple[tuple[int, int], SubmissionState]] = {}


def _stamp(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_mtime_ns, info.st_size


def _state_file(state_dir: Path, partner_id: str, period_id: str) -> str:
    return os.path.join(state_dir, STATE_FORMAT, partner_id, f"{period_id}.pickle")


def save_state(state_dir: Path, state: SubmissionState) -> Path:
    """Store a state; one that is the very object loaded from the store is left as is."""
    path = _state_file(state_dir, state.partner_id, state.period_id)
    cached = _CACHE.get(path)
    unchanged = cached is not None and cached[1] is state and os.path.exists(path)
    if unchanged and _stamp(path) == cached[0]:
        return Path(path)
    payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    write_atomic(Path(path), lambda tmp: tmp.write_bytes(payload))
    _CACHE[path] = (_stamp(path), state)
    return Path(path)


def load_state(state_dir: Path, partner_id: str, period_id: str) -> SubmissionState:
    """The stored state, or an empty one for a partner-period never ingested.

    Several assets of one run read every state; they are unpickled once per file
    version (the cache is keyed by modification time and size, and states are never
    changed in place: ``SubmissionState.apply`` returns a new one).
    """
    path = _state_file(state_dir, partner_id, period_id)
    try:
        stamp = _stamp(path)
    except FileNotFoundError:
        return SubmissionState(partner_id, period_id)
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with open(path, "rb") as handle:
        state = pickle.load(handle)
    _CACHE[path] = (stamp, state)
    return state


def load_states(state_dir: Path, pairs: Iterable[tuple[str, str]]) -> dict[str, SubmissionState]:
    """The state of every (partner, period) pair, keyed ``partner|period``."""
    return {f"{p}|{q}": load_state(state_dir, p, q) for p, q in pairs}


def _pickle_path(state_dir: Path, name: str) -> Path:
    return state_dir / ASSET_STATE_FORMAT / f"{name}.pickle"


def save_pickle(state_dir: Path, name: str, obj: object) -> Path:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return write_atomic(_pickle_path(state_dir, name), lambda tmp: tmp.write_bytes(payload))


def load_pickle(state_dir: Path, name: str, default: object = None) -> object:
    """A pickled object saved by :func:`save_pickle`, or ``default`` when there is none."""
    try:
        with _pickle_path(state_dir, name).open("rb") as handle:
            return pickle.load(handle)
    except FileNotFoundError:
        return default
