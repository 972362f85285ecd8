"""Where each partner-period's :class:`SubmissionState` is kept between runs.

The state is internal to the pipeline (the published tables are derived from it), so
it lives under the state directory (``CLUSTERIX_STATE_DIR``), never under the assets
directory that BI users read. It is stored as data, never as code: one JSON document
per partner-period, with its format version, read back field by field into the
types it declares (dates, Decimals, integers, text). Whoever can write the state
directory (an S3 bucket, perhaps) can change figures there, but cannot make the
pipeline run anything. A state of another format, or one that cannot be read as its
format says, is ignored: the partner-period's files are then read again. Each file
is replaced atomically.

The other small records a run keeps for the next (:func:`save_record`) are JSON too.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar

import pandas as pd

from pipelines.core.state.record_columns import RecordColumns
from pipelines.core.state.versions import SubmissionState, VersionKey
from pipelines.platform.files import write_atomic

# Bumped whenever SubmissionState changes shape: states of another format are then
# ignored and the files in raw/ ingested afresh, rather than misread.
STATE_FORMAT = "submissions-v4"
ARCHIVE_DIR = "archive"
# The folder of the other records a run keeps (the files no partner-period owns...),
# format versioned like the states.
ASSET_STATE_FORMAT = "assets-v3"


T = TypeVar("T")


class UnreadableState(ValueError):
    """A stored document that does not hold what its format declares."""


# --- values: JSON, with the types JSON lacks tagged -------------------------------------

# A value JSON cannot hold as itself is an object with one of these keys.
_TAGS: dict[str, Callable[[str], object]] = {
    "$decimal": Decimal,
    "$date": dt.date.fromisoformat,
    "$datetime": dt.datetime.fromisoformat,
    "$float": float,  # NaN and infinities, which JSON has no literal for
    "$na": lambda _: pd.NA,
}


def _plain(value: object) -> object:
    """A value as JSON holds it; raises TypeError for a type a state never holds."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if value is pd.NA:
        return {"$na": ""}
    raise TypeError(f"a state holds no {type(value).__name__} ({value!r})")


def _typed(obj: dict) -> object:
    """A JSON object back as the value it stands for (a tagged value), or as is."""
    if len(obj) == 1:
        ((tag, text),) = obj.items()
        parse = _TAGS.get(tag)
        if parse is not None:
            if not isinstance(text, str):
                raise UnreadableState(f"{tag} holds {text!r}")
            return parse(text)
    return obj


def _rows(rows: Iterable[Mapping[str, object]]) -> list[dict]:
    return [{key: _plain(value) for key, value in row.items()} for row in rows]


def dumps(document: Mapping[str, object]) -> bytes:
    """A document of plain values (and rows of any values a state holds) as JSON bytes."""
    return json.dumps(document, ensure_ascii=False, allow_nan=False, default=_plain).encode()


def loads(data: bytes) -> object:
    """JSON bytes back as values; raises UnreadableState for anything malformed."""
    try:
        return json.loads(data, object_hook=_typed)
    except (ValueError, TypeError, InvalidOperation, UnicodeDecodeError) as exc:
        raise UnreadableState(str(exc)) from exc


# --- the state of a partner-period ------------------------------------------------------


def _expect(value: object, kind: type | tuple[type, ...], what: str) -> object:
    if not isinstance(value, kind):
        raise UnreadableState(f"{what} is a {type(value).__name__}")
    return value


def state_document(state: SubmissionState) -> dict[str, object]:
    """A state as a JSON-ready document (its rows' values tagged by :func:`_plain`)."""
    return {
        "format": STATE_FORMAT,
        "partner_id": state.partner_id,
        "period_id": state.period_id,
        "versions": _rows(state.versions),
        "issues": _rows(state.issues),
        "present": state.present,
        "kept": [
            {
                "file": file,
                "sha256": sha,
                "tables": {
                    name: {
                        "dtypes": [list(d) for d in columns.dtypes],
                        "values": [[_plain(v) for v in values] for values in columns.values],
                    }
                    for name, columns in tables.items()
                },
            }
            for (file, sha), tables in state.kept.items()
        ],
    }


_VERSION_KEYS = frozenset({"file", "sha256", "status", "verdict", "current", "in_folder"})
_ISSUE_KEYS = frozenset({"file", "sha256", "severity", "rule", "message"})


def _dict_rows(rows: object, required: frozenset[str], what: str) -> list[dict]:
    rows = _expect(rows, list, what)
    for row in rows:
        if not required <= _expect(row, dict, what).keys():
            raise UnreadableState(f"a row of {what} lacks {sorted(required - row.keys())}")
    return rows


def _columns(table: object) -> RecordColumns:
    table = _expect(table, dict, "a kept table")
    dtypes = _expect(table.get("dtypes"), list, "dtypes")
    values = _expect(table.get("values"), list, "values")
    if len(dtypes) != len(values) or len({len(_expect(v, list, "a column")) for v in values}) > 1:
        raise UnreadableState("kept columns of different lengths")
    pairs = tuple(tuple(_expect(d, list, "a dtype")) for d in dtypes)
    if any(len(p) != 2 or not all(isinstance(x, str) for x in p) for p in pairs):
        raise UnreadableState("a dtype is not a (name, dtype) pair")
    return RecordColumns(pairs, tuple(values))


def state_of(document: object, partner_id: str, period_id: str) -> SubmissionState:
    """The state a document holds; raises UnreadableState unless it is one of this format
    for this partner-period, with every field of the type it must have."""
    doc = _expect(document, dict, "the document")
    if doc.get("format") != STATE_FORMAT:
        raise UnreadableState(f"format {doc.get('format')!r}, not {STATE_FORMAT}")
    if (doc.get("partner_id"), doc.get("period_id")) != (partner_id, period_id):
        raise UnreadableState("the state of another partner-period")
    present = _expect(doc.get("present"), dict, "present")
    if not all(isinstance(v, str) for v in present.values()):
        raise UnreadableState("present maps a file to no SHA-256")
    kept: dict[VersionKey, dict[str, RecordColumns]] = {}
    for entry in _dict_rows(doc.get("kept"), frozenset({"file", "sha256", "tables"}), "kept"):
        tables = _expect(entry["tables"], dict, "tables")
        kept[(entry["file"], entry["sha256"])] = {n: _columns(t) for n, t in tables.items()}
    return SubmissionState(
        partner_id,
        period_id,
        versions=_dict_rows(doc.get("versions"), _VERSION_KEYS, "versions"),
        issues=_dict_rows(doc.get("issues"), _ISSUE_KEYS, "issues"),
        present=present,
        kept=kept,
    )


# Keyed by the state file's path as text: several steps of a run each load every state
# (12,100 at 100x), and building pathlib paths cost more than the stat that checks them.
_CACHE: dict[str, tuple[tuple[int, int], SubmissionState]] = {}


def _stamp(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_mtime_ns, info.st_size


def _state_file(state_dir: Path, partner_id: str, period_id: str) -> str:
    return os.path.join(state_dir, STATE_FORMAT, partner_id, f"{period_id}.json")


def save_state(state_dir: Path, state: SubmissionState) -> Path:
    """Store a state; one that is the very object loaded from the store is left as is."""
    path = _state_file(state_dir, state.partner_id, state.period_id)
    cached = _CACHE.get(path)
    unchanged = cached is not None and cached[1] is state and os.path.exists(path)
    if unchanged and _stamp(path) == cached[0]:
        return Path(path)
    payload = dumps(state_document(state))
    write_atomic(Path(path), lambda tmp: tmp.write_bytes(payload))
    _CACHE[path] = (_stamp(path), state)
    return Path(path)


def load_state(state_dir: Path, partner_id: str, period_id: str) -> SubmissionState:
    """The stored state, or an empty one for a partner-period never ingested or whose
    stored state is unreadable (its files are then read again).

    Several assets of one run read every state; each file is parsed once per version
    (the cache is keyed by modification time and size, and states are never changed in
    place: :meth:`SubmissionState.record` and ``settle`` return new ones).
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
        data = handle.read()
    try:
        state = state_of(loads(data), partner_id, period_id)
    except UnreadableState:
        state = SubmissionState(partner_id, period_id)
    _CACHE[path] = (stamp, state)
    return state


def load_states(state_dir: Path, pairs: Iterable[tuple[str, str]]) -> dict[str, SubmissionState]:
    """The state of every (partner, period) pair, keyed ``partner|period``."""
    return {f"{p}|{q}": load_state(state_dir, p, q) for p, q in pairs}


# --- the other records a run keeps for the next -----------------------------------------


def _record_path(state_dir: Path, name: str) -> Path:
    return state_dir / ASSET_STATE_FORMAT / f"{name}.json"


def save_record(state_dir: Path, name: str, document: object) -> Path:
    """Keep a JSON document (plain values; rows may hold dates and Decimals) by name."""
    payload = dumps({"format": ASSET_STATE_FORMAT, "data": document})
    return write_atomic(_record_path(state_dir, name), lambda tmp: tmp.write_bytes(payload))


def load_record(state_dir: Path, name: str, read: Callable[[object], T], default: T) -> T:
    """A document saved by :func:`save_record`, as ``read`` makes it; ``default`` when
    there is none, or when it is unreadable (``read`` raising UnreadableState, KeyError,
    TypeError or ValueError for a document that is not what it expects)."""
    try:
        data = _record_path(state_dir, name).read_bytes()
    except FileNotFoundError:
        return default
    try:
        document = _expect(loads(data), dict, "the document")
        if document.get("format") != ASSET_STATE_FORMAT:
            return default
        return read(document["data"])
    except (UnreadableState, KeyError, TypeError, ValueError):
        return default
