"""From partner files to validated submissions: the ingest flow, without Dagster.

One call handles any number of files. Each file is hashed and archived under its
SHA-256, read safely, checked at workbook level (the Cover against its folder and
name, the template version, the phase), and then the rows of all readable workbooks
are validated together, one Pandera pass per sheet. The outcome of each file version
is a :class:`Outcome`. A :class:`SubmissionState` keeps one partner-period's file
versions, each identified by file and SHA-256, and is settled in every run against
what the folder holds now (:func:`refresh`): a rejected resubmission never replaces
the last accepted version, and a file that left the folder stops counting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.core.intake.discovery import Candidate, sha256_of
from pipelines.core.intake.guard import (
    DEFAULT_LIMITS,
    FileGone,
    Limits,
    WorkbookRejected,
    read_bytes,
)
from pipelines.core.intake.parsing import Invalid, parse_value
from pipelines.core.intake.validation import CONTEXT, LINEAGE, validate_sheet
from pipelines.core.intake.workbook import RawWorkbook, parse_workbook
from pipelines.core.metadata.enumerations import ACCEPTED, REJECTED
from pipelines.core.metadata.rules import RULES, make_issue
from pipelines.core.metadata.tables import (
    COVER_FIELDS,
    COVER_SHEET,
    RECORD_SHEETS,
    TEMPLATE_VERSION,
    Sheet,
)
from pipelines.core.reference.model import Reference
from pipelines.core.state.archive import archive_bytes
from pipelines.core.state.record_columns import RecordColumns, split

# The status of a file that vanished or changed while it was read: it is left out of
# its partner-period's history and read again on the next run.
RETRY = "retry"

_COVER = {f.name: f for f in COVER_FIELDS}


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


class _Rejection(Exception):
    """A workbook-level rule broken (by the file's place or its Cover): the rule, the Cover
    cell it is about, and the facts its message quotes."""

    def __init__(
        self,
        rule: str,
        *,
        row: int | None = None,
        value: object = None,
        facts: Mapping[str, object] | None = None,
    ):
        super().__init__(rule)
        self.rule, self.row, self.value, self.facts = rule, row, value, dict(facts or {})


def _cover_value(workbook: RawWorkbook, name: str) -> tuple[object, int | None]:
    entry = workbook.cover.get(name)
    if entry is None:
        return None, None
    return entry.value, entry.row


_CHECKED_COVER_FIELDS = ("partner_id", "period_id", "template_version", "submitted_on")


def _check_cover(workbook: RawWorkbook, outcome: Outcome, ref: Reference) -> None:
    """Workbook-level rules on the Cover; fills submitted_on and on_time."""
    values = {}
    for name, f in _COVER.items():
        raw, row = _cover_value(workbook, name)
        parsed = parse_value(f, raw)
        values[name] = (raw, parsed, row)

    # A checked Cover cell the parser refused for a precise reason (a look-alike
    # character, a formula without its result, an error) is refused for that reason.
    for name in _CHECKED_COVER_FIELDS:
        raw, parsed, row = values[name]
        if isinstance(parsed, Invalid) and parsed.rule != "wrong_type":
            facts = {"column": name, **dict(parsed.facts)}
            raise _Rejection(parsed.rule, row=row, value=raw, facts=facts)
    raw, partner, row = values["partner_id"]
    if partner not in ref.partner_ids:
        raise _Rejection("unknown_cover_partner", row=row, value=raw)
    if partner != outcome.partner_id:
        folder = {"folder_partner": outcome.partner_id}
        raise _Rejection("partner_mismatch", row=row, value=partner, facts=folder)
    raw, period, row = values["period_id"]
    if period not in ref.period_ids:
        raise _Rejection("unknown_cover_period", row=row, value=raw)
    if period != outcome.period_id:
        named = {"file_period": outcome.period_id}
        raise _Rejection("period_mismatch", row=row, value=period, facts=named)
    if not ref.takes_part(partner, period):
        raise _Rejection("not_in_phase", row=row, value=period, facts={"partner": partner})
    raw, version, row = values["template_version"]
    if version != TEMPLATE_VERSION:
        facts = {"template_version": TEMPLATE_VERSION, "partner": partner, "period": period}
        raise _Rejection("unsupported_template_version", row=row, value=raw, facts=facts)
    # Without a date the partner would silently count as late and the dates after
    # submission could not be checked: the workbook waits for a real date instead.
    raw, submitted, row = values["submitted_on"]
    if not isinstance(submitted, dt.date):
        raise _Rejection("submitted_on_not_a_date", row=row, value=raw)
    outcome.submitted_on = submitted
    outcome.on_time = submitted <= ref.period(period)["deadline"]


def _reader_issues(workbook: RawWorkbook, outcome: Outcome) -> None:
    """The issues the reader found beyond cell values: unknown columns, hidden rows left
    out, sheets not read."""
    for finding in workbook.findings:
        outcome.issues.append(
            make_issue(
                finding.rule,
                outcome.source,
                sheet=finding.sheet,
                row=finding.row,
                record_ref=finding.record_ref,
                **dict(finding.facts),
            )
        )
    for sheet, extras in workbook.extra_columns.items():
        for header, letter in extras:
            outcome.issues.append(
                make_issue(
                    "unknown_column",
                    outcome.source,
                    sheet=sheet,
                    row=1,
                    column=header,
                    value=header,
                    letter=letter,
                )
            )


def _batch(sheet: Sheet, parts: list[tuple[pd.DataFrame, Outcome]]) -> pd.DataFrame:
    """One frame of a sheet's rows from many workbooks, each row with its context.

    Built with one concat and repeated context values, since per-workbook frame
    operations would cost more than the validation itself on a large batch.
    """
    parts = [(frame, outcome) for frame, outcome in parts if not frame.empty]
    columns = list(sheet.column_names)
    if not parts:
        return pd.DataFrame(columns=[*columns, *CONTEXT], dtype=object)
    order = pd.Index(columns)
    # One 2-D array: concatenating thousands of small frames costs more than validating.
    arrays = [
        (frame if frame.columns.equals(order) else frame.loc[:, columns]).to_numpy(dtype=object)
        for frame, _ in parts
    ]
    body = pd.DataFrame(np.concatenate(arrays), columns=order, dtype=object)
    lengths = [len(frame) for frame, _ in parts]
    for column, attribute in CONTEXT.items():
        if column == "_row":
            continue
        values = np.empty(len(parts), dtype=object)
        values[:] = [getattr(outcome, attribute) for _, outcome in parts]
        body[column] = np.repeat(values, lengths)
    body["_row"] = np.concatenate([frame.index.to_numpy(dtype=int) for frame, _ in parts])
    return body


def _reject(outcome: Outcome, exc: WorkbookRejected | _Rejection) -> None:
    outcome.status = REJECTED
    if isinstance(exc, WorkbookRejected):
        issue = make_issue(
            exc.rule, outcome.source, sheet=exc.sheet, column=exc.column, **exc.facts
        )
    else:
        on_cover = exc.row is not None or RULES[exc.rule].column is not None
        issue = make_issue(
            exc.rule,
            outcome.source,
            sheet=COVER_SHEET if on_cover else None,
            row=exc.row,
            value=exc.value,
            **exc.facts,
        )
    outcome.issues.append(issue)


# Discovery rejections for what must never be opened; other refused files are still
# read (within the size limit) so that their bytes are archived like every version.
_NOT_OPENED = frozenset({"symlink", "not_a_regular_file"})


def _open(
    candidate: Candidate,
    outcome: Outcome,
    ref: Reference,
    limits: Limits,
    archive_dir: Path,
    locked: str | None = None,
) -> RawWorkbook | None:
    """Read the file's bytes once; hash, archive and parse those same bytes.

    A workbook-level failure rejects the outcome; a file that vanished or changed while
    read makes it a :data:`RETRY`. When the partner-period is locked to the approved
    SHA-256 ``locked``, other bytes are archived and refused unparsed.
    """
    rejection = candidate.rejection
    if rejection is not None and rejection.rule == SEVERAL_WORKBOOKS:
        rejection = None  # refused by the state while its rivals are in the folder
    try:
        if rejection is not None and rejection.rule in _NOT_OPENED:
            raise _Rejection(rejection.rule, facts=rejection.details)
        try:
            data = read_bytes(candidate.path, limits)
        except WorkbookRejected:
            if rejection is not None:
                raise _Rejection(rejection.rule, facts=rejection.details) from None
            raise
        outcome.sha256 = hashlib.sha256(data).hexdigest()
        archive_bytes(data, outcome.sha256, candidate.path.suffix, archive_dir)
        if locked not in (None, outcome.sha256):
            outcome.status = REJECTED
            outcome.issues.append(make_issue(PERIOD_LOCKED, outcome.source, ref=ref))
            return None
        if rejection is not None:
            raise _Rejection(rejection.rule, facts=rejection.details)
        workbook = parse_workbook(data, limits)
        _check_cover(workbook, outcome, ref)
    except FileGone as exc:
        outcome.status = RETRY
        outcome.issues.append(make_issue("file_changed_while_read", outcome.source, cause=exc))
        return None
    except (WorkbookRejected, _Rejection) as exc:
        _reject(outcome, exc)
        return None
    _reader_issues(workbook, outcome)
    return workbook


def _records(valid: pd.DataFrame, sheet: Sheet) -> pd.DataFrame:
    columns = [*LINEAGE, *sheet.column_names]
    frame = valid.loc[:, columns].rename(columns=LINEAGE)
    frame["row"] = frame["row"].astype("Int64")
    return frame


# Workbooks validated together. Validation runs once per sheet and batch, which keeps it
# cheap per row; a bounded batch keeps memory bounded: at 100x the sample, holding every
# parsed workbook of the drop folder at once was most of a run's peak.
VALIDATION_BATCH = 500


def ingest(
    candidates: Sequence[Candidate],
    ref: Reference,
    archive_dir: Path,
    *,
    limits: Limits = DEFAULT_LIMITS,
    now: str | None = None,
    locks: Mapping[tuple[str, str], str] | None = None,
    batch_size: int = VALIDATION_BATCH,
) -> list[Outcome]:
    """Process file versions: read each once, archive it, check it, and validate all rows
    in one pass per batch of workbooks. Each outcome's ``sha256`` is that of the bytes
    actually parsed (empty for a file never read: a link, a pipe, one too large).
    ``locks`` maps each partner-period the coordinator approved to the approved SHA-256
    (:meth:`pipelines.core.state.review.Ledger.locks`): any other version is archived and
    refused unparsed. Every rule is about one workbook, so batches do not change results.
    """
    seen_at = now or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    candidates = list(candidates)
    outcomes: list[Outcome] = []
    for start in range(0, len(candidates), batch_size):
        batch = candidates[start : start + batch_size]
        outcomes += _ingest_batch(batch, ref, archive_dir, limits, seen_at, locks or {})
    return outcomes


def _ingest_batch(
    candidates: Sequence[Candidate],
    ref: Reference,
    archive_dir: Path,
    limits: Limits,
    seen_at: str,
    locks: Mapping[tuple[str, str], str],
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    parts: dict[str, list[tuple[pd.DataFrame, Outcome]]] = {s.name: [] for s in RECORD_SHEETS}
    for candidate in candidates:
        outcome = Outcome(
            file=candidate.file,
            sha256="",
            partner_id=candidate.partner_id,
            period_id=candidate.period_id,
            status=ACCEPTED,
            seen_at=seen_at,
        )
        outcomes.append(outcome)
        locked = locks.get((candidate.partner_id, candidate.period_id))
        workbook = _open(candidate, outcome, ref, limits, archive_dir, locked)
        if workbook is None:
            continue
        for sheet in RECORD_SHEETS:
            parts[sheet.name].append((workbook.sheets[sheet.name], outcome))

    # By file, not by bytes: two files with the same bytes each get their own issues.
    by_file = {o.file: o for o in outcomes if o.status == ACCEPTED}
    for sheet in RECORD_SHEETS:
        batch = _batch(sheet, parts[sheet.name])
        if batch.empty:
            continue
        result = validate_sheet(sheet, batch)
        for issue in result.issues.to_dict("records"):
            by_file[issue["file"]].issues.append(issue)
        for file, columns in split(_records(result.valid, sheet), "file").items():
            by_file[file].columns[sheet.table] = columns
    return outcomes


# --- the state of one partner-period over time ------------------------------------------


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
    :mod:`record_columns`) of the version in use and of every accepted version the
    folder holds, so that any of them can be put in use without reading it again.

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
            make_issue(SEVERAL_WORKBOOKS, self._source(file, sha), **rivals[file])
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


@dataclass
class Refreshed:
    """What one pass over the drop folder changed: the states that differ from before,
    how many file versions were read, and the files to read again next run (they
    vanished or changed while read)."""

    states: list[SubmissionState]
    files_read: int
    retry: list[Outcome]


def refresh(
    found: Sequence[Candidate],
    before: Sequence[SubmissionState],
    ref: Reference,
    archive_dir: Path,
    *,
    locks: Mapping[tuple[str, str], str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    now: str | None = None,
) -> Refreshed:
    """Bring the states ``before`` up to date with the folder's files ``found``.

    Only file versions never read as such are read (and those a lock refused that is
    lifted); then every state is settled against the files the folder holds for it
    now, those of a partner-period whose files all left included. ``found`` may hold
    files of other partner-periods: only those of ``before``'s are looked at.
    """
    locks = locks or {}
    states = {(s.partner_id, s.period_id): s for s in before}
    files: dict[tuple[str, str], dict[Candidate, str]] = {key: {} for key in states}
    for candidate in found:
        key = (candidate.partner_id, candidate.period_id)
        if key in files:
            files[key][candidate] = fingerprint(candidate, limits)
    todo: list[tuple[tuple[str, str], Candidate]] = []
    for key, present in files.items():
        again = states[key].refused_by_lock(locks.get(key))
        todo += [
            (key, c)
            for c, sha in present.items()
            if states[key].needs_reading(c.file, sha) or c.file in again
        ]
    outcomes = ingest([c for _, c in todo], ref, archive_dir, limits=limits, now=now, locks=locks)
    read = dict(states)
    for (key, _), outcome in zip(todo, outcomes, strict=True):
        read[key] = read[key].record(outcome)
    changed = []
    for key, state in read.items():
        rivals = {
            c.file: c.rejection.details
            for c in files[key]
            if c.rejection is not None and c.rejection.rule == SEVERAL_WORKBOOKS
        }
        present = {c.file: sha for c, sha in files[key].items()}
        settled = state.settle(present, rivals, locks.get(key))
        if settled is not states[key]:
            changed.append(settled)
    retry = [o for o in outcomes if o.status == RETRY]
    return Refreshed(changed, len(todo), retry)


def fingerprint(candidate: Candidate, limits: Limits = DEFAULT_LIMITS) -> str:
    """SHA-256 of the candidate's bytes, to see whether it changed since it was ingested.

    Empty for what must not be opened (a link, a pipe) and for a file over the size
    limit, whose bytes are never read (an 8 GB sparse file would take minutes to hash).
    """
    try:
        return sha256_of(candidate.path, limits.max_file_bytes)
    except OSError:
        return ""
