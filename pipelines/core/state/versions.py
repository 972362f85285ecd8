"""One partner-period's file versions over time, and what the folder makes of them now.

A :class:`SubmissionState` keeps every version seen, each identified by its file and
SHA-256, with its issues and the valid rows of the versions that may be put in use. It
is settled in every run against what the folder holds now: a rejected resubmission never
replaces the last accepted version, and a file that left the folder stops counting.
An :class:`Outcome` is what reading one file version gave; reading is intake's
(:mod:`pipelines.core.intake.ingest`), so that everything that reads states imports no
reader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

from pipelines.core.intake.issues import make_issue
from pipelines.core.metadata.enumerations import ACCEPTED, RETRY
from pipelines.core.metadata.sheets import LINEAGE, RECORD_SHEETS
from pipelines.core.reference.model import Reference
from pipelines.core.state.record_columns import RecordColumns


@dataclass
class Outcome:
    """What one file version turned out to be."""

    file: str
    sha256: str
    partner_id: str | None
    period_id: str | None
    status: str
    submitted_on: dt.date | None = None
    on_time: bool | None = None
    issues: list[dict] = field(default_factory=list)
    # The valid rows per fact table that has any (see record_columns).
    columns: dict[str, RecordColumns] = field(default_factory=dict)
    seen_at: str = ""

    @property
    def records(self) -> dict[str, pd.DataFrame]:
        """The valid rows as a frame per fact table that has any (built per call)."""
        return {name: c.frame() for name, c in self.columns.items()}

    @property
    def source(self) -> dict[str, str | None]:
        """This file version, as an issue names it."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "partner_id": self.partner_id,
            "period_id": self.period_id,
        }

    @property
    def n_errors(self) -> int:
        return sum(1 for i in self.issues if i["severity"] == "error")

    @property
    def n_warnings(self) -> int:
        return sum(1 for i in self.issues if i["severity"] == "warning")

    @property
    def n_rows(self) -> int:
        return sum(map(len, self.columns.values()))

    def submission_row(self, current: bool) -> dict:
        return {
            "partner_id": self.partner_id,
            "period_id": self.period_id,
            "file": self.file,
            "sha256": self.sha256,
            "status": self.status,
            "current": current,
            "in_folder": True,
            "submitted_on": self.submitted_on,
            "on_time": self.on_time,
            "n_errors": self.n_errors,
            "n_warnings": self.n_warnings,
            "n_rows": self.n_rows,
            "first_seen_at": self.seen_at,
        }


_EMPTY_RECORDS = {
    sheet.table: pd.DataFrame(columns=[*LINEAGE.values(), *sheet.column_names])
    for sheet in RECORD_SHEETS
}


def empty_records() -> dict[str, pd.DataFrame]:
    """An empty frame per fact table, with the columns ingest produces (shared, not copied:
    nothing in the pipeline mutates a records frame in place)."""
    return dict(_EMPTY_RECORDS)


VersionKey = tuple[str, str]
"""A file version's identity: the file (relative to the drop folder) and its SHA-256."""


def version_key(row: Mapping[str, object]) -> VersionKey:
    """The identity of a version row or issue row: its file and its bytes."""
    return str(row["file"]), str(row["sha256"])


@dataclass
class SubmissionState:
    """One partner-period: every file version seen, and what the folder now makes of them.

    ``versions`` are ``submissions`` rows, one per file and SHA-256 in the order first
    seen; each keeps its own ``verdict`` (what reading it gave), while ``status``,
    ``n_errors`` and ``in_folder`` say what it is given what the folder holds now, and
    ``current`` marks the version the published tables use. ``issues`` are the issue
    rows of every version, each carrying its file and SHA-256. ``present`` maps each of
    the partner-period's files in the drop folder, as of the last run, to its SHA-256.
    ``kept`` holds the valid rows (per fact table, as plain columns, see
    :mod:`pipelines.core.state.record_columns`) of the version in use and of every
    accepted version the folder holds, so that any of them can be put in use without
    reading it again.

    A state is never changed in place: :meth:`record` and :meth:`settle` return a new one.
    """

    partner_id: str
    period_id: str
    versions: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    present: dict[str, str] = field(default_factory=dict)
    kept: dict[VersionKey, dict[str, RecordColumns]] = field(default_factory=dict)

    @property
    def in_use(self) -> dict | None:
        """The version row the published tables use, if any."""
        return next((v for v in self.versions if v["current"]), None)

    @property
    def current_sha256(self) -> str | None:
        in_use = self.in_use
        return None if in_use is None else in_use["sha256"]

    @property
    def columns(self) -> dict[str, RecordColumns]:
        """The valid rows of the version in use, per fact table that has any."""
        in_use = self.in_use
        return {} if in_use is None else self.kept.get(version_key(in_use), {})

    @property
    def n_rows(self) -> int:
        return sum(map(len, self.columns.values()))

    @property
    def records(self) -> dict[str, pd.DataFrame]:
        """The version in use's valid rows as a frame per fact table (built per call)."""
        return {**empty_records(), **{name: c.frame() for name, c in self.columns.items()}}

    @property
    def refused(self) -> list[dict]:
        """The versions in the folder now that are refused, oldest first: each one counts
        against the partner-period until it is replaced or removed."""
        return [v for v in self.versions if v["in_folder"] and v["status"] != ACCEPTED]

    @property
    def open_keys(self) -> set[VersionKey]:
        """The versions whose issues a partner still has to act on: those in the folder now,
        and the version in use while its file is still there (whatever its bytes now)."""
        keys = set(self.present.items())
        in_use = self.in_use
        if in_use is not None and in_use["file"] in self.present:
            keys.add(version_key(in_use))
        return keys

    @property
    def open_issues(self) -> list[dict]:
        keys = self.open_keys
        return [i for i in self.issues if version_key(i) in keys]

    def issues_of(self, key: VersionKey) -> list[dict]:
        return [i for i in self.issues if version_key(i) == key]

    def needs_reading(self, file: str, sha256: str) -> bool:
        """Whether this file with these bytes must be read: never read as such, or accepted
        but with its rows no longer kept (a file restored to bytes it had before)."""
        row = self._version((file, sha256))
        if row is None:
            return True
        return row["verdict"] == ACCEPTED and (file, sha256) not in self.kept

    def _version(self, key: VersionKey) -> dict | None:
        return next((v for v in self.versions if version_key(v) == key), None)

    def refused_by_lock(self, locked: str | None) -> set[str]:
        """Files in the folder whose bytes were refused only because the period was locked,
        when it is not locked any more (``locked`` None): they are read again."""
        if locked is not None:
            return set()
        refused = {version_key(i) for i in self.issues if i["rule"] == PERIOD_LOCKED}
        return {file for file, sha in self.present.items() if (file, sha) in refused}

    def record(self, outcome: Outcome) -> SubmissionState:
        """This state with one file version's outcome: its row, issues and rows replace
        those of the same file and bytes only, never another file's.

        A version seen before keeps its place, ``first_seen_at`` and ``current`` flag.
        A file that could not be read whole (:data:`RETRY`) changes nothing, so it is
        read again next run. What the folder makes of the version is :meth:`settle`'s.
        """
        if outcome.status == RETRY:
            return self
        key = (outcome.file, outcome.sha256)
        seen = self._version(key)
        row = {**outcome.submission_row(current=False), "verdict": outcome.status}
        if seen is None:
            versions = [*self.versions, row]
        else:
            row |= {"first_seen_at": seen["first_seen_at"], "current": seen["current"]}
            versions = [row if v is seen else v for v in self.versions]
        issues = [i for i in self.issues if version_key(i) != key] + outcome.issues
        kept = {k: c for k, c in self.kept.items() if k != key}
        if outcome.status == ACCEPTED:
            kept[key] = dict(outcome.columns)
        return replace(self, versions=versions, issues=issues, kept=kept)

    def settle(
        self,
        present: Mapping[str, str],
        rivals: Mapping[str, Mapping[str, object]],
        ref: Reference,
        locked: str | None = None,
    ) -> SubmissionState:
        """What the folder now makes of the versions seen (the same state when unchanged).

        ``present`` maps the partner-period's files in the drop folder to their SHA-256;
        ``rivals`` maps each of them that is one of several workbooks for the period to
        the facts of its ``several_workbooks`` refusal (discovery's). A file in the
        folder counts with its own verdict, refused while it has rivals; a file that left
        keeps its history, and its issues close (:attr:`open_keys`). The version in use
        becomes the folder's one workbook when that is accepted (and is the approved
        SHA-256 ``locked``, if any); otherwise the last version in use stays in use, also
        when its file was removed, since a removal is not a replacement.
        """
        keys = set(present.items())
        issues = [
            i
            for i in self.issues
            if not (i["rule"] == SEVERAL_WORKBOOKS and version_key(i) in keys)
        ]
        issues += [
            make_issue(SEVERAL_WORKBOOKS, self._source(file, sha), ref=ref, **rivals[file])
            for file, sha in present.items()
            if file in rivals
        ]
        candidates = [
            key
            for key in keys
            if (v := self._version(key)) is not None
            and v["verdict"] == ACCEPTED
            and locked in (None, key[1])
        ]
        in_use = self.in_use
        chosen = candidates[0] if not rivals and len(candidates) == 1 else None
        if chosen is None and in_use is not None:
            chosen = version_key(in_use)
        versions = [self._settled(v, keys, rivals, chosen) for v in self.versions]
        kept = {k: c for k, c in self.kept.items() if k in keys or k == chosen}
        settled = replace(self, versions=versions, issues=issues, present=dict(present), kept=kept)
        return self if _same(self, settled) else settled

    def _source(self, file: str, sha256: str) -> dict[str, str]:
        return {
            "file": file,
            "sha256": sha256,
            "partner_id": self.partner_id,
            "period_id": self.period_id,
        }

    def _settled(
        self,
        version: dict,
        keys: set[VersionKey],
        rivals: Mapping[str, object],
        chosen: VersionKey | None,
    ) -> dict:
        """A version row brought up to date with the folder: a file that left keeps what
        it last was, but for ``in_folder``; ``current`` marks the version in use."""
        key = version_key(version)
        row = {**version, "current": key == chosen, "in_folder": key in keys}
        if key in keys:
            several = key[0] in rivals
            own_errors = sum(
                1
                for i in self.issues
                if version_key(i) == key
                and i["severity"] == "error"
                and i["rule"] != SEVERAL_WORKBOOKS
            )
            row["status"] = "rejected" if several else version["verdict"]
            row["n_errors"] = own_errors + several
        return row


# The rule that refuses a file for a partner-period the coordinator approved (core.review).
PERIOD_LOCKED = "period_locked"
SEVERAL_WORKBOOKS = "several_workbooks"
"""The discovery rule about what else the folder holds, not about the file itself: a file
refused by it is still read on its own merits, and refused while its rivals are there."""


def _same(before: SubmissionState, after: SubmissionState) -> bool:
    return (
        before.versions == after.versions
        and before.issues == after.issues
        and before.present == after.present
        and before.kept.keys() == after.kept.keys()
    )
