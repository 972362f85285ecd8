"""The container guard: a partner's workbook is checked before any parser opens it.

A workbook comes from outside the project, so it is hostile until checked. The guard
works on the bytes read once (:func:`read_bytes`), so a file replaced half-way cannot
slip past it, in two stages:

1. :mod:`.container`: size, kind, number of parts, and how far every part *really*
   inflates (headers can lie, so the bytes are counted as they are decompressed).
2. :mod:`.xml_parts` (xlsx) and :mod:`.ods_parts` (ods): what the parser would build
   in memory: the cell grid of every sheet and the text that shared strings (xlsx) or
   repeated cells (ods) expand to.

Anything wrong raises :class:`WorkbookRejected`, whose ``rule`` and ``message`` go to
the partner unchanged. The bounds mirror python-calamine 0.9's internals, which is why
pyproject.toml pins python-calamine to 0.9.x.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.core.intake.guard.container import (
    DEFAULT_LIMITS,
    METADATA_PARTS,
    NOT_A_WORKBOOK,
    ODS_MIMETYPE,
    SAVE_AS,
    Budget,
    FileGone,
    Limits,
    WorkbookRejected,
    check_entries,
    check_size,
    column_letter,
    drain,
    inflate,
    open_zip,
    read_bytes,
    read_small,
    too_much_text,
    workbook_kind,
)
from pipelines.core.intake.guard.ods_parts import scan_ods
from pipelines.core.intake.guard.xml_parts import (
    ExactSheetScan,
    SharedStrings,
    SheetScan,
    check_dimension,
    check_extent,
    fast_sheet_scan,
    xlsx_sheet_names,
)

__all__ = [
    "DEFAULT_LIMITS",
    "FileGone",
    "Inspected",
    "Limits",
    "WorkbookRejected",
    "check_bytes",
    "check_container",
    "column_letter",
    "read_bytes",
]


@dataclass(frozen=True)
class Inspected:
    """What the guard noticed on its way: the sheets whose cells may hide more than
    their value (errors, merges, links), so that only those are looked at again."""

    marked_sheets: frozenset[str]
    every_sheet: bool = False

    def may_hold_notes(self, sheet: str) -> bool:
        return self.every_sheet or sheet in self.marked_sheets


@dataclass
class _Inspection:
    """The state of one pass over a container's parts."""

    data: bytes
    limits: Limits
    budget: Budget
    sheet_names: dict[str, str]
    sheets: list[tuple[zipfile.ZipInfo, SheetScan]]
    shared_strings: tuple[zipfile.ZipInfo, int] | None = None
    marked: set[str] = field(default_factory=set)
    ods_marked: bool = False

    def is_worksheet(self, key: str) -> bool:
        in_folder = key.startswith("xl/worksheets/") and key.endswith(".xml")
        return in_folder or key in self.sheet_names

    def scan_sheet(self, info: zipfile.ZipInfo) -> None:
        name = self.sheet_names.get(info.filename.casefold(), info.filename)
        scan = fast_sheet_scan(name, inflate(self.data, info, self.limits, self.budget))
        if scan is None:
            chunks = inflate(self.data, info, self.limits, None)
            scan = ExactSheetScan(name, info.filename, self.limits, None).run(chunks)
        if scan.dimension:
            check_dimension(name, scan.dimension, self.limits)
        check_extent(name, scan.rows, scan.columns, self.limits)
        self.sheets.append((info, scan))
        if scan.marked:
            self.marked.add(name)

    def check_shared_text(self) -> None:
        """Bound the text shared strings expand to: quickly if possible, else cell by cell."""
        if self.shared_strings is None:
            return
        info, size = self.shared_strings
        values = sum(scan.values for _, scan in self.sheets)
        # No shared string is longer than the part that holds them all.
        if values * size <= self.limits.max_text_chars:
            return
        chunks = inflate(self.data, info, self.limits, None)
        lengths = SharedStrings(info.filename).run(chunks)
        if values * max(lengths, default=0) <= self.limits.max_text_chars:
            return
        total = 0
        for sheet_info, scan in self.sheets:
            exact = ExactSheetScan(scan.name, sheet_info.filename, self.limits, lengths)
            exact.run(inflate(self.data, sheet_info, self.limits, None))
            total += exact.text
            if total > self.limits.max_text_chars:
                raise too_much_text(self.limits)


def _inspect(data: bytes, limits: Limits) -> Inspected:
    """Every check on the container, part by part, before calamine may open it."""
    archive = open_zip(data)
    infos = check_entries(archive, limits)
    by_name = {info.filename.casefold(): info for info in infos}
    kind = workbook_kind(set(by_name))
    budget = Budget(limits)
    small = {
        key: read_small(data, by_name[key], limits, budget)
        for key in METADATA_PARTS
        if key in by_name
    }
    mimetype = small.get("mimetype")
    if kind == "ods" and mimetype is not None and not mimetype.startswith(ODS_MIMETYPE):
        raise WorkbookRejected(
            "not_a_spreadsheet",
            f"{NOT_A_WORKBOOK}: it is an OpenDocument file but not a spreadsheet; {SAVE_AS}",
        )
    inspection = _Inspection(
        data,
        limits,
        budget,
        xlsx_sheet_names(small.get("xl/workbook.xml"), small.get("xl/_rels/workbook.xml.rels")),
        [],
    )
    for info in infos:
        key = info.filename.casefold()
        if key in small:
            continue
        if key == "content.xml":  # whatever the kind: calamine may fall back to ods
            inspection.ods_marked |= scan_ods(data, info, limits, budget)
        elif inspection.is_worksheet(key):
            inspection.scan_sheet(info)
        elif key == "xl/sharedstrings.xml":
            inspection.shared_strings = (info, drain(inflate(data, info, limits, budget)))
        else:
            drain(inflate(data, info, limits, budget))
    inspection.check_shared_text()
    return Inspected(frozenset(inspection.marked), inspection.ods_marked)


def check_container(path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a file that is not a sane .xlsx/.ods container, before any parsing.

    Raises :class:`WorkbookRejected` with one of the rules ``empty_file``,
    ``file_too_large``, ``not_a_spreadsheet``, ``unreadable_file``, ``zip_bomb`` or
    ``sheet_too_large``.
    """
    check_bytes(read_bytes(path, limits), limits)


def check_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Inspected:
    """The checks of :func:`check_container` on bytes already read."""
    check_size(len(data), limits)
    return _inspect(data, limits)
