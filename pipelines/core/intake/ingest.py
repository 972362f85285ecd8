"""From partner files to validated submissions: the ingest flow, without Dagster.

One call handles any number of files. Each file is hashed and archived under its
SHA-256, read safely, checked at workbook level (the Cover against its folder and
name, the template version, the phase), and then the rows of all readable workbooks
are validated together, one Pandera pass per sheet. The outcome of each file version
is an :class:`~pipelines.core.state.versions.Outcome`. :func:`refresh` records the new
outcomes into each partner-period's :class:`~pipelines.core.state.versions.SubmissionState`
and settles every state against what the folder holds now: a rejected resubmission
never replaces the last accepted version, and a file that left the folder stops counting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from pipelines.core.intake.issues import make_issue
from pipelines.core.intake.parsing import Invalid, parse_value
from pipelines.core.intake.validation import validate_sheet
from pipelines.core.intake.workbook import RawWorkbook, parse_workbook
from pipelines.core.metadata.enumerations import ACCEPTED, REJECTED, RETRY
from pipelines.core.metadata.rules import RULES
from pipelines.core.metadata.sheets import CONTEXT, LINEAGE
from pipelines.core.metadata.tables import (
    COVER_FIELDS,
    COVER_SHEET,
    TEMPLATE_VERSION,
    Sheet,
)
from pipelines.core.reference.model import Reference
from pipelines.core.state.archive import archive_bytes
from pipelines.core.state.record_columns import split
from pipelines.core.state.versions import (
    PERIOD_LOCKED,
    SEVERAL_WORKBOOKS,
    Outcome,
    SubmissionState,
)

_COVER = {f.name: f for f in COVER_FIELDS}


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


def _reader_issues(workbook: RawWorkbook, outcome: Outcome, ref: Reference) -> None:
    """The issues the reader found beyond cell values: unknown columns, hidden rows left
    out, sheets not read."""
    for finding in workbook.findings:
        outcome.issues.append(
            make_issue(
                finding.rule,
                outcome.source,
                ref=ref,
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
                    ref=ref,
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


def _reject(outcome: Outcome, exc: WorkbookRejected | _Rejection, ref: Reference) -> None:
    outcome.status = REJECTED
    if isinstance(exc, WorkbookRejected):
        issue = make_issue(
            exc.rule, outcome.source, ref=ref, sheet=exc.sheet, column=exc.column, **exc.facts
        )
    else:
        on_cover = exc.row is not None or RULES[exc.rule].column is not None
        issue = make_issue(
            exc.rule,
            outcome.source,
            ref=ref,
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
        workbook = parse_workbook(data, limits, ref.record_sheets)
        _check_cover(workbook, outcome, ref)
    except FileGone as exc:
        outcome.status = RETRY
        outcome.issues.append(
            make_issue("file_changed_while_read", outcome.source, ref=ref, cause=exc)
        )
        return None
    except (WorkbookRejected, _Rejection) as exc:
        _reject(outcome, exc, ref)
        return None
    _reader_issues(workbook, outcome, ref)
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
    parts: dict[str, list[tuple[pd.DataFrame, Outcome]]] = {s.name: [] for s in ref.record_sheets}
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
        for sheet in ref.record_sheets:
            parts[sheet.name].append((workbook.sheets[sheet.name], outcome))

    # By file, not by bytes: two files with the same bytes each get their own issues.
    by_file = {o.file: o for o in outcomes if o.status == ACCEPTED}
    for sheet in ref.record_sheets:
        batch = _batch(sheet, parts[sheet.name])
        if batch.empty:
            continue
        result = validate_sheet(sheet, batch, ref)
        for issue in result.issues.to_dict("records"):
            by_file[issue["file"]].issues.append(issue)
        for file, columns in split(_records(result.valid, sheet), "file").items():
            by_file[file].columns[sheet.table] = columns
    return outcomes


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
        settled = state.settle(present, rivals, ref, locks.get(key))
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
