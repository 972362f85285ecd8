"""Where the workbook sits in its container, found the way python-calamine finds it.

calamine looks a part up by its name with '\\' read as '/' and ASCII case ignored
(:func:`~.container.part_key`), so ``xl\\workbook.xml`` is the workbook. An .xlsx
names its workbook in ``_rels/.rels`` (the officeDocument relationship): the folder
of that target, ``xl/`` or any other, holds ``workbook.xml``, its relationships,
``sharedStrings.xml`` and ``styles.xml``. An .ods is read from ``content.xml``, with
``mimetype`` and ``META-INF/manifest.xml`` beside it.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

from pipelines.core.intake.guard.container import (
    Budget,
    Limits,
    WorkbookRejected,
    ascii_lower,
    read_small,
)
from pipelines.core.intake.guard.xml_parts import elements, xlsx_sheet_parts

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
PACKAGE_RELS = "_rels/.rels"
_OFFICE_DOCUMENT = "/relationships/officeDocument"
_MIMETYPE = "mimetype"
_MANIFEST = "meta-inf/manifest.xml"
ODS_CONTENT = "content.xml"


@dataclass
class Package:
    """The parts of a container that make it a workbook, by :func:`part_key`.

    ``kind`` is 'xlsx' or 'ods'; ``sheets`` maps each xlsx sheet part to the names of
    the sheets it holds; ``read`` holds the small parts already read whole; ``styles``
    is the xlsx's styles part (number formats), beside workbook.xml.
    """

    kind: str
    sheets: dict[str, list[str]]
    shared_strings: str | None
    read: set[str]
    styles: str | None = None


class _Parts:
    """The container's parts, looked up as calamine looks them up, read within budget."""

    def __init__(
        self, data: bytes, by_key: dict[str, zipfile.ZipInfo], limits: Limits, budget: Budget
    ) -> None:
        self.data = data
        self.by_key = by_key
        self.by_name = {info.filename: key for key, info in by_key.items()}
        self.limits = limits
        self.budget = budget
        self.read: set[str] = set()

    def find(self, path: str) -> str | None:
        """The key of the part calamine opens for ``path``, if there is one.

        calamine lowers the path's ASCII letters, tries its table of normalised names,
        then the path exactly as written.
        """
        key = ascii_lower(path)
        if key in self.by_key:
            return key
        return self.by_name.get(path)

    def small(self, key: str | None) -> bytes | None:
        """A small part's bytes, read whole once (it counts against the budget)."""
        if key is None:
            return None
        self.read.add(key)
        return read_small(self.data, self.by_key[key], self.limits, self.budget)


def workbook_folder(rels: bytes | None) -> str:
    """The folder of the officeDocument target of ``_rels/.rels`` (calamine's xl_path),
    from that part's bytes; 'xl/' when there are none."""
    relationships = elements(rels, PACKAGE_RELS, "Relationship") if rels else []
    targets = [
        rel["Target"]
        for rel in relationships
        if rel.get("Type", "").endswith(_OFFICE_DOCUMENT) and "Target" in rel
    ]
    if not targets:  # calamine refuses such a package; the reader says so
        return "xl/"
    target = targets[-1]
    return target[: target.rfind("/") + 1].removeprefix("/")


def _check_ods(parts: _Parts) -> None:
    """Refuse an OpenDocument file that is not a spreadsheet, or that is encrypted."""
    mimetype = parts.small(parts.find(_MIMETYPE))
    if mimetype is not None and not mimetype.startswith(ODS_MIMETYPE):
        raise WorkbookRejected("not_a_spreadsheet_document")
    manifest = parts.small(parts.find(_MANIFEST))
    if manifest is not None and elements(manifest, _MANIFEST, "encryption-data"):
        raise WorkbookRejected("password_protected")


def locate(
    data: bytes, by_key: dict[str, zipfile.ZipInfo], limits: Limits, budget: Budget
) -> Package:
    """The workbook's kind and parts; a container that holds none is refused."""
    parts = _Parts(data, by_key, limits, budget)
    folder = workbook_folder(parts.small(parts.find(PACKAGE_RELS)))
    workbook = parts.find(folder + "workbook.xml")
    if workbook is not None:
        rels = parts.small(parts.find(folder + "_rels/workbook.xml.rels"))
        sheets: dict[str, list[str]] = {}
        for name, path in xlsx_sheet_parts(parts.small(workbook), rels, folder):
            if (key := parts.find(path)) is not None:
                sheets.setdefault(key, []).append(name)
        strings = parts.find(folder + "sharedStrings.xml")
        styles = parts.find(folder + "styles.xml")
        return Package("xlsx", sheets, strings, parts.read, styles)
    if parts.find(folder + "workbook.bin") or parts.find("xl/workbook.bin"):
        raise WorkbookRejected("binary_workbook")
    if ODS_CONTENT in by_key:
        _check_ods(parts)
        return Package("ods", {}, None, parts.read)
    raise WorkbookRejected("no_workbook_inside")
