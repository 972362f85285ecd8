"""Finding the partners' workbooks in the drop folder, without trusting the folder.

The expected layout is ``<raw>/<partner_id>/<period_id>.xlsx`` (or ``.ods``). Every
file found becomes a :class:`Candidate`; a file that does not fit the layout is still
returned, with a :class:`Rejection` saying why, so that one bad file never stops the
batch and the coordinator sees every file that was dropped.

Partner folders and period file names must match the ids exactly (``P4``,
``RP07``): accepting ``p4`` as well would let two files claim one partner-period.
A near miss gets a rejection that names the right spelling. The extension is
compared ignoring case (``RP07.XLSX`` is read), since systems differ there.
Symbolic links are reported and never followed. README files, dotfiles and hidden
folders, office lock files (``~$RP07.xlsx``, ``.~lock.RP07.xlsx#``) and the files an
operating system leaves in folders (``Thumbs.db``, ``desktop.ini``, ``.DS_Store``) are
ignored at any level. A file named like a copy of a period's workbook (``RP07 (1).xlsx``,
``Copy of RP07.xlsx``, a sync tool's ``RP07 (conflicted copy 2026-12-01).xlsx`` or
``RP07-DESKTOP-AB12.xlsx``) is refused as a copy of that period's workbook.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from pipelines.core.reference.model import Reference

ACCEPTED_SUFFIXES = (".xlsx", ".ods")


@dataclass(frozen=True)
class Rejection:
    """Why a file cannot be read as a submission: a rule and the facts its message quotes."""

    rule: str
    facts: tuple[tuple[str, object], ...] = ()

    @property
    def details(self) -> dict[str, object]:
        return dict(self.facts)


def _rejection_of(rule: str, **facts: object) -> Rejection:
    return Rejection(rule, tuple(sorted(facts.items())))


@dataclass(frozen=True)
class Candidate:
    """A file found in the drop folder, attributed to a partner and period when possible."""

    path: Path
    file: str  # relative to the raw directory, posix: 'P4/RP07.xlsx'
    partner_id: str | None
    period_id: str | None
    rejection: Rejection | None


def discover(raw_dir: Path, ref: Reference) -> list[Candidate]:
    """Every file under ``raw_dir`` (but ignored ones), sorted by relative path, each
    attributed to a partner and period of the project ``ref``."""
    root = Path(raw_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"the raw directory {root} does not exist or is not a folder")
    ids = _Ids(tuple(ref.partner_ids), tuple(ref.period_ids))
    found = [_candidate(root, entry, ids) for entry in _walk(root)]
    return _one_workbook_each(sorted(found, key=lambda candidate: candidate.file))


def listing(raw_dir: Path) -> list[tuple[str, int, int]]:
    """``(file, size, modification time in ns)`` of every file :func:`discover` lists,
    sorted by ``file`` (relative, posix): one ``lstat`` each, nothing opened or parsed.

    A file that vanishes while listed is given as size and time ``-1``.
    """
    root = Path(raw_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"the raw directory {root} does not exist or is not a folder")
    start = len(os.path.join(root, ""))
    rows = []
    for entry in _walk(root):
        file = entry.path[start:].replace(os.sep, "/")
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            rows.append((file, -1, -1))
        else:
            rows.append((file, info.st_size, info.st_mtime_ns))
    return sorted(rows)


def _one_workbook_each(candidates: list[Candidate]) -> list[Candidate]:
    """Reject every workbook of a partner-period that has more than one (RP07.xlsx and
    RP07.ods): picking one would be a guess, and using both would count figures twice."""
    readable: dict[tuple[str | None, str | None], list[str]] = {}
    for c in candidates:
        if c.rejection is None:
            readable.setdefault((c.partner_id, c.period_id), []).append(c.file)
    result = []
    for c in candidates:
        rivals = readable.get((c.partner_id, c.period_id), [])
        if c.rejection is None and len(rivals) > 1:
            rejection = _rejection_of(
                "several_workbooks",
                partner_id=c.partner_id,
                period_id=c.period_id,
                count=len(rivals),
                files=", ".join(rivals),
            )
            c = replace(c, rejection=rejection)
        result.append(c)
    return result


def sha256_of(path: Path, max_bytes: int | None = None) -> str:
    """SHA-256 of a file's bytes, read in chunks.

    Raises OSError for a symbolic link or anything but a regular file (a pipe would
    otherwise block the run forever), and for a file larger than ``max_bytes``, which
    is refused on its size alone without reading it.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    with os.fdopen(os.open(path, flags), "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if max_bytes is not None and status.st_size > max_bytes:
            raise OSError(errno.EFBIG, "larger than a workbook may be", str(path))
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True)
class _Ids:
    partners: tuple[str, ...]
    periods: tuple[str, ...]


# Files operating systems and their file managers leave in folders (lower case).
_SYSTEM_FILES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r"})


def _ignored(name: str) -> bool:
    folded = name.casefold()
    return name.startswith((".", "~$")) or folded.startswith("readme") or folded in _SYSTEM_FILES


def _walk(folder: Path) -> Iterator[os.DirEntry[str]]:
    """Every entry that is not a real folder, depth first; links are yielded, not followed."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if _ignored(entry.name):
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path))
            else:
                yield entry


def _candidate(root: Path, entry: os.DirEntry[str], ids: _Ids) -> Candidate:
    path = Path(entry.path)
    relative = PurePosixPath(path.relative_to(root).as_posix())
    parts = relative.parts
    stem = relative.name[: -len(relative.suffix)] if relative.suffix else relative.name
    partner = parts[0] if len(parts) > 1 and parts[0] in ids.partners else None
    period = _period_in_name(stem, partner, ids)
    return Candidate(
        path=path,
        file=str(relative),
        partner_id=partner,
        period_id=period,
        rejection=_rejection(entry, relative, stem, ids),
    )


def _rejection(
    entry: os.DirEntry[str], relative: PurePosixPath, stem: str, ids: _Ids
) -> Rejection | None:
    """The first reason the file cannot be a submission, most fundamental first."""
    file = str(relative)
    if entry.is_symlink():
        return _rejection_of("symlink", file=file)
    if not entry.is_file(follow_symlinks=False):
        return _rejection_of("not_a_regular_file", file=file)
    if len(relative.parts) == 1:
        return _rejection_of("outside_partner_folder", file=file)
    if len(relative.parts) > 2:
        return _rejection_of("in_sub_folder", file=file)
    folder = relative.parts[0]
    if folder not in ids.partners:
        hint = _did_you_mean(folder, ids.partners)
        return _rejection_of("unknown_partner_folder", folder=folder, did_you_mean=hint)
    if relative.suffix.lower() not in ACCEPTED_SUFFIXES:
        kind = f"{relative.suffix} files are" if relative.suffix else "files with no extension are"
        return _rejection_of("unsupported_file_type", file=file, kind=kind)
    if _period_in_name(stem, folder, ids) is None:
        copied = _copy_of(stem, ids)
        if copied is not None:
            name, suffix = relative.name, relative.suffix.lower()
            return _rejection_of("copy_of_workbook", name=name, period_id=copied, suffix=suffix)
        hint = _did_you_mean(stem, ids.periods)
        return _rejection_of("unknown_period_file", file=file, stem=stem, did_you_mean=hint)
    return None


_PERIOD_TOKEN = re.compile(r"(?<![A-Za-z0-9])(RP[0-9]+)(?![0-9])", re.IGNORECASE)


def _copy_of(stem: str, ids: _Ids) -> str | None:
    """The period whose workbook this name copies: it names exactly one period id, as a
    word, with more around it (``RP07 (1)``, ``Copy of RP07``, ``RP07-DESKTOP-AB12``)."""
    found = {match.upper() for match in _PERIOD_TOKEN.findall(stem)}
    if len(found) != 1:
        return None
    (period,) = found
    return period if period in ids.periods and len(stem.strip()) > len(period) else None


def _period_in_name(stem: str, partner: str | None, ids: _Ids) -> str | None:
    """The period a file name gives: ``RP07``, or ``P4_RP07`` in the folder of P4.

    ``clusterix template P4 RP07`` suggests ``P4_RP07.xlsx``; a partner saving it under
    that name in their own folder has said unambiguously what it is.
    """
    if stem in ids.periods:
        return stem
    prefix = f"{partner}_"
    if partner and stem.startswith(prefix) and stem[len(prefix) :] in ids.periods:
        return stem[len(prefix) :]
    return None


def _did_you_mean(name: str, known: tuple[str, ...]) -> str:
    """A hint when only the case differs: ids are matched exactly."""
    for candidate in known:
        if candidate.casefold() == name.strip().casefold():
            return f" (did you mean {candidate!r}? ids must be written exactly)"
    return ""
