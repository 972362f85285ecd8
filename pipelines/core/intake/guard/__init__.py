"""The container guard: a partner's workbook is checked before any parser opens it.

A workbook comes from outside the project, so it is hostile until checked. The guard
works on the bytes read once (:func:`read_bytes`), so a file replaced half-way cannot
slip past it, in three stages:

1. :mod:`.container`: size, number of parts, and how far every part *really*
   inflates (headers can lie, so the bytes are counted as they are decompressed).
2. :mod:`.package`: where the workbook is, found the way the parser finds it.
3. :mod:`.xml_parts` (xlsx) and :mod:`.ods_parts` (ods): what the parser would build
   in memory: the grid of the sheets it reads, up to their last value, and the text
   that shared strings (xlsx) or repeated cells (ods) expand to.

Anything wrong raises :class:`WorkbookRejected`: a rule name and facts, which the
rule registry words for the partner. The bounds mirror python-calamine 0.9's
internals, which is why pyproject.toml pins python-calamine to 0.9.x; why the guard
mirrors them rather than running the parser in a worker process under limits is in
docs/design/guard.md.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.core.intake.guard.container import (
    DEFAULT_LIMITS,
    Budget,
    FileGone,
    Limits,
    WorkbookRejected,
    check_entries,
    check_extent,
    check_size,
    column_letter,
    drain,
    inflate,
    open_zip,
    read_bytes,
    too_much_text,
)
from pipelines.core.intake.guard.ods_parts import scan_ods
from pipelines.core.intake.guard.package import ODS_CONTENT, Package, locate
from pipelines.core.intake.guard.xml_parts import (
    ExactSheetScan,
    SharedStrings,
    SheetScan,
    fast_sheet_scan,
    has_note_marks,
)

__all__ = [
    "DEFAULT_LIMITS",
    "FileGone",
    "Inspected",
    "Limits",
    "SheetFilter",
    "WorkbookRejected",
    "check_bytes",
    "check_container",
    "column_letter",
    "every_sheet",
    "read_bytes",
]


SheetFilter = Callable[[str], bool]


def every_sheet(_name: str) -> bool:
    """The filter of a caller that reads every sheet."""
    return True


@dataclass(frozen=True)
class Inspected:
    """What the guard noticed on its way: the workbook's kind ('xlsx' or 'ods'), the
    sheets whose cells may hide more than their value (errors, formulas, merges, links,
    hidden rows or columns), and whether the workbook's styles may show a number as a
    percentage (then any sheet may), so that only those are looked at again."""

    kind: str
    marked_sheets: frozenset[str]
    every_sheet: bool = False
    percent_formats: bool = False

    def may_hold_notes(self, sheet: str) -> bool:
        return self.every_sheet or self.percent_formats or sheet in self.marked_sheets


# Styles that may show a number as a percentage: the built-in 0% and 0.00%, or a format
# code with a '%'.
_PERCENT_MARKS = (b'numFmtId="9"', b'numFmtId="10"', b"%")


@dataclass
class _Inspection:
    """The state of one pass over a container's parts."""

    data: bytes
    limits: Limits
    budget: Budget
    sheets: list[tuple[zipfile.ZipInfo, SheetScan]] = field(default_factory=list)
    shared_strings: tuple[zipfile.ZipInfo, int] | None = None
    marked: set[str] = field(default_factory=set)
    ods_marked: bool = False
    percent_formats: bool = False

    def scan_sheet(self, info: zipfile.ZipInfo, names: list[str]) -> None:
        """Bound the grid of a part read as the sheets ``names``: from byte counts when
        they vouch for it and tell which cells hold a value, else exactly."""
        limits, name = self.limits, names[0]
        scan = fast_sheet_scan(name, inflate(self.data, info, limits, self.budget))
        if scan is None or (
            not scan.every_cell_valued
            and (scan.rows > limits.max_rows or scan.columns > limits.max_columns)
        ):
            chunks = inflate(self.data, info, limits, None)
            scan = ExactSheetScan(name, info.filename, limits, None).run(chunks)
        check_extent(name, scan.rows, scan.columns, limits)
        self.sheets.append((info, scan))
        if scan.marked:
            self.marked.update(names)

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


def _inspect(data: bytes, limits: Limits, reads: SheetFilter) -> Inspected:
    """Every check on the container, part by part, before calamine may open it.

    The grid and text of the xlsx sheets ``reads`` accepts are bounded; every other part
    only by its bytes. An ods has all its sheets bounded: calamine builds every sheet
    of an ods when it opens the file.
    """
    by_key = check_entries(open_zip(data), limits)
    budget = Budget(limits)
    package: Package = locate(data, by_key, limits, budget)
    inspection = _Inspection(data, limits, budget)
    for key, info in by_key.items():
        # One part may play several roles (a sheet's target may be workbook.xml): each
        # role's check applies.
        names = [name for name in package.sheets.get(key, []) if reads(name)]
        if names:
            inspection.scan_sheet(info, names)
        if key == ODS_CONTENT:  # whatever the kind: calamine may fall back to ods
            inspection.ods_marked |= scan_ods(data, info, limits, budget)
        if key == package.shared_strings:
            inspection.shared_strings = (info, drain(inflate(data, info, limits, budget)))
        elif key == package.styles:
            styles = b"".join(inflate(data, info, limits, budget))
            inspection.percent_formats = has_note_marks(styles, _PERCENT_MARKS)
        elif not names and key != ODS_CONTENT and key not in package.read:
            drain(inflate(data, info, limits, budget))
    inspection.check_shared_text()
    return Inspected(
        package.kind,
        frozenset(inspection.marked),
        inspection.ods_marked,
        inspection.percent_formats,
    )


def check_container(path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a file that is not a sane .xlsx/.ods container, before any parsing.

    Raises :class:`WorkbookRejected` (see :func:`check_bytes`).
    """
    check_bytes(read_bytes(path, limits), limits)


def check_bytes(
    data: bytes, limits: Limits = DEFAULT_LIMITS, reads: SheetFilter = every_sheet
) -> Inspected:
    """The checks of :func:`check_container` on bytes already read, bounding the grid of
    the xlsx sheets ``reads`` accepts (by name) and only the bytes of the others."""
    check_size(len(data), limits)
    return _inspect(data, limits, reads)
