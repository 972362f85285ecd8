"""Why python-calamine cannot read a workbook the guard passed, as a rule and facts.

Opening bytes, calamine tries every format in turn and reports only "Cannot detect
file format". Opening a file whose name carries the format's extension reports the
real cause, so a workbook that failed is opened once more from a temporary file named
after its kind, and that cause is matched to a rule the partner can act on.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile

from python_calamine import CalamineWorkbook

from pipelines.core.intake.guard import WorkbookRejected

# calamine's message -> the rule that words it; a group named 'part' is a fact.
_CAUSES = (
    (re.compile(r"Unrecognized sheet:type: (?P<part>.+)"), "unknown_sheet_kind"),
    (re.compile(r"'mimetype' file not found"), "ods_without_mimetype"),
    (re.compile(r"Expecting 'table-cell', found 'Text\("), "reformatted_ods"),
)
_UTF16 = re.compile(rb"^(?:\xff\xfe|\xfe\xff)|^<\?xml[^>]*encoding=['\"]utf-16", re.IGNORECASE)


def _cause_from_path(data: bytes, kind: str, exc: Exception) -> Exception:
    """calamine's own error for these bytes read as a ``kind`` file."""
    with tempfile.NamedTemporaryFile(suffix=f".{kind}") as copy:
        copy.write(data)
        copy.flush()
        try:
            CalamineWorkbook.from_path(copy.name).close()
        except Exception as cause:  # what the parser says is the fact wanted
            return cause
    return exc


def _utf16_part(data: bytes) -> str | None:
    """The first XML part calamine may read that is written in UTF-16 (customXml parts,
    which Excel may write so, are never read)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            name = info.filename.replace("\\", "/").lower()
            if name.endswith((".xml", ".rels")) and not name.startswith("customxml/"):
                with archive.open(info) as part:
                    if _UTF16.match(part.read(200)):
                        return info.filename
    return None


def _rejection(cause: Exception, data: bytes, sheet: str | None) -> WorkbookRejected:
    reason = str(cause)
    for pattern, rule in _CAUSES:
        if match := pattern.search(reason):
            return WorkbookRejected(rule, sheet=sheet, **match.groupdict())
    is_xml = "xml" in f"{type(cause).__name__} {reason}".lower()
    if is_xml and (part := _utf16_part(data)) is not None:
        return WorkbookRejected("unsupported_encoding", sheet=sheet, part=part)
    if sheet is not None:
        return WorkbookRejected("unreadable_sheet", sheet=sheet, reason=reason)
    return WorkbookRejected("unreadable_workbook", reason=reason)


def unopenable(data: bytes, kind: str, exc: Exception) -> WorkbookRejected:
    """The refusal of a workbook (of the guard's ``kind``) that calamine cannot open."""
    return _rejection(_cause_from_path(data, kind, exc), data, None)


def unreadable_sheet(data: bytes, sheet: str, exc: Exception) -> WorkbookRejected:
    """The refusal of a workbook whose sheet ``sheet`` calamine opened but cannot read."""
    return _rejection(exc, data, sheet)
