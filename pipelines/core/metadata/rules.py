"""Every validation rule, declared once: its name, severity, level and message template.

A partner reads the message, so its wording lives here and nowhere else; the code that
finds a problem only names the rule and hands over the facts the template quotes. The
facts a message takes from the project (its dates, the 2021 gap, the length of a staff
exchange, the partner and period ids) come from the reference data through
:attr:`Reference.terms`, so editing a reference file changes the messages too.

:func:`make_issue` is the one constructor of a ``validation_issues`` row. ``level`` says
what a failure refuses: ``file`` and ``workbook`` rules reject the whole file, ``row``
and ``fact`` rules quarantine the row (error) or keep it with a warning.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pipelines.core.intake.parsing import as_text
from pipelines.core.metadata.fields import BACK_TO_BACK_ACTIVITIES, FIELDS
from pipelines.core.reference.loader import Reference, reference

Severity = Literal["error", "warning"]
Level = Literal["file", "workbook", "row", "fact"]


@dataclass(frozen=True)
class Rule:
    """One rule. ``template`` is a ``str.format`` template; ``column`` is the column an
    issue points at when the finder does not say (row rules about one column)."""

    name: str
    severity: Severity
    level: Level
    template: str
    column: str | None = None

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(
            name for _, name, _, _ in string.Formatter().parse(self.template) if name is not None
        )

    def message(self, terms: Mapping[str, object]) -> str:
        """The message with every placeholder filled; an empty value reads 'empty'."""
        return self.template.format_map({name: _shown(terms[name]) for name in self.placeholders})


def _shown(value: object) -> str:
    text = as_text(value)
    return "empty" if text is None else text


def _r(name: str, severity: Severity, level: Level, template: str, column: str | None = None):
    return Rule(name, severity, level, template, column)


_WRONG = "{column} must be {hint}, got '{value}'"
_SAVE_AGAIN = "save your workbook again and replace the file"

_RULE_LIST: tuple[Rule, ...] = (
    # --- file: the drop folder (discovery) ----------------------------------------------
    _r(
        "symlink",
        "error",
        "file",
        "{file} is a symbolic link; links are never followed. Put the workbook itself in"
        " your folder, e.g. {example_file}",
    ),
    _r(
        "not_a_regular_file",
        "error",
        "file",
        "{file} is not a regular file (a pipe, socket or device) and cannot be read",
    ),
    _r(
        "outside_partner_folder",
        "error",
        "file",
        "{file} is not in a partner folder; put each workbook in the folder of its partner,"
        " e.g. {example_file}",
    ),
    _r(
        "in_sub_folder",
        "error",
        "file",
        "{file} is in a sub-folder, and files in sub-folders are not read; put the workbook"
        " directly in the partner folder, e.g. {example_file}",
    ),
    _r(
        "unknown_partner_folder",
        "error",
        "file",
        "the folder '{folder}' is not a partner id ({partner_range}){did_you_mean}; put the"
        " workbook in your own partner folder, e.g. {example_file}",
    ),
    _r(
        "unsupported_file_type",
        "error",
        "file",
        "{file}: {kind} not accepted (.xlsm, .xls, .csv and other formats are refused); only"
        " .xlsx and .ods workbooks are read. Open the file in your spreadsheet program and"
        " save it as Excel Workbook (.xlsx)",
    ),
    _r(
        "unknown_period_file",
        "error",
        "file",
        "{file}: '{stem}' is not a reporting period id ({period_range}){did_you_mean}; name the"
        " workbook after the period it reports on, e.g. RP07.xlsx",
    ),
    _r(
        "several_workbooks",
        "error",
        "file",
        "{partner_id} has {count} workbooks for {period_id} ({files}); keep only one in your"
        " folder. The last accepted version is used meanwhile",
    ),
    _r(
        "file_changed_while_read",
        "warning",
        "file",
        "{file} disappeared or changed while it was being read; it is read again on the next run",
    ),
    # --- file: a partner-period the coordinator approved (pipelines.core.state.review) ---------
    _r(
        "period_locked",
        "error",
        "file",
        "the coordinator approved your workbook for {period_id} and locked the period: this"
        " file was not read and the approved version stays in use. If something must change,"
        " ask the coordinator to reopen the period, then put the corrected workbook in your"
        " folder again",
    ),
    # --- workbook: the container and its sheets (workbook reading and guard) ------------
    # Where a rule covers many different defects (a damaged part, a password, an old
    # .xls), the reader describes the defect and its remedy as ``problem``.
    _r("unreadable_file", "error", "workbook", "{problem}"),
    _r("not_a_spreadsheet", "error", "workbook", "{problem}"),
    _r("empty_file", "error", "workbook", "the file is empty (0 bytes); " + _SAVE_AGAIN),
    _r(
        "file_too_large",
        "error",
        "workbook",
        "the file is larger than the {limit} a report workbook may be; remove pictures,"
        " embedded files and unused sheets, then save it again",
    ),
    _r(
        "zip_bomb",
        "error",
        "workbook",
        "{what}; this is not a normal workbook (a 'decompression bomb'). Save your workbook"
        " again from your spreadsheet program, or contact the coordinator if it really is"
        " this large",
    ),
    _r(
        "sheet_too_large",
        "error",
        "workbook",
        "sheet '{sheet}' uses the range {used}, beyond the {rows} rows and {columns} columns"
        " ({allowed}) a sheet may have; delete the rows and columns after your data (select"
        " them, Delete, then save) and save the workbook again",
    ),
    _r(
        "missing_sheet",
        "error",
        "workbook",
        "the workbook has no sheet {missing}; it needs the sheets {wanted} (sheets found: {found})",
    ),
    _r(
        "missing_column",
        "error",
        "workbook",
        "sheet '{sheet}' has no column {missing} in its header row (row 1), and it is"
        " required (columns found: {found})",
    ),
    _r(
        "duplicate_sheet",
        "error",
        "workbook",
        "the workbook has {count} sheets that read as '{sheet}': {sheets}; it is not clear"
        " which one holds your report, so delete or rename the others (hidden sheets too:"
        " right-click a sheet tab, Unhide)",
    ),
    _r(
        "duplicate_column",
        "error",
        "workbook",
        "sheet '{sheet}' has a duplicate column '{column}' (columns {letters}); it is not clear"
        " which one holds the values, so delete or rename the others",
    ),
    # --- workbook: the Cover ----------------------------------------------------------
    _r(
        "unknown_cover_partner",
        "error",
        "workbook",
        "Cover partner_id '{value}' is not a project partner ({partner_range})",
        "partner_id",
    ),
    _r(
        "partner_mismatch",
        "error",
        "workbook",
        "Cover names partner {value} but the file is in the folder of {folder_partner}; a"
        " partner may only submit in its own folder",
        "partner_id",
    ),
    _r(
        "unknown_cover_period",
        "error",
        "workbook",
        "Cover period_id '{value}' is not a reporting period ({period_range})",
        "period_id",
    ),
    _r(
        "period_mismatch",
        "error",
        "workbook",
        "Cover names period {value} but the file is named {file_period}; name the file after"
        " the period it reports on",
        "period_id",
    ),
    _r(
        "not_in_phase",
        "error",
        "workbook",
        "{partner} takes no part in the phase of {value}; no workbook is expected",
        "period_id",
    ),
    _r(
        "unsupported_template_version",
        "error",
        "workbook",
        "template_version '{value}' is not supported; use a template of version"
        " {template_version} (clusterix template {partner} {period})",
        "template_version",
    ),
    _r(
        "submitted_on_not_a_date",
        "error",
        "workbook",
        "Cover submitted_on must be {hint}, got '{value}'; on-time reporting and the dates"
        " after submission depend on it, so the workbook is not used until it is a date",
        "submitted_on",
    ),
    # --- row: one cell ------------------------------------------------------------------
    _r("required_value_missing", "error", "row", "{column} is required; fill it in"),
    _r("wrong_type", "error", "row", _WRONG),
    _r("not_in_enumeration", "error", "row", _WRONG),
    _r(
        "ambiguous_number",
        "error",
        "row",
        "{column} '{value}' is a number typed as text with a separator, which reads"
        " differently from country to country (1.500 is 1500 in some and 1.5 in others);"
        " type the number itself: digits only, no thousands separator, a dot before any"
        " cents (e.g. 1500000 or 1500.50)",
    ),
    _r(
        "error_cell",
        "error",
        "row",
        "{column} holds the spreadsheet error {value}, not a value; correct the formula or"
        " type the value itself",
    ),
    _r(
        "merged_cell",
        "error",
        "row",
        "{column} is part of the merged cells {value}, so its own value is lost; unmerge the"
        " cells and type the value in each row and column",
    ),
    _r(
        "computed_hyperlink",
        "error",
        "row",
        "{column} is a HYPERLINK formula whose address is computed, and '{value}' is only its"
        " text; type or paste the address itself (https://...)",
    ),
    _r("negative_value", "error", "row", _WRONG),
    _r("out_of_range", "error", "row", _WRONG),
    _r(
        "unknown_guest_partner_id",
        "error",
        "row",
        "{column} '{value}' is not a project partner id ({partner_range})",
        "guest_partner_id",
    ),
    _r(
        "unknown_country",
        "error",
        "row",
        "{column} '{value}' is not an ISO 3166 alpha-2 country code; write the two capital"
        " letters of the country, e.g. AT, RO or SE",
    ),
    _r(
        "unknown_back_to_back_activity",
        "error",
        "row",
        "{column} '{value}' names an activity that is not one of: {activities} (separate"
        " several with ';')",
        "back_to_back",
    ),
    _r(
        "date_outside_project",
        "error",
        "row",
        "{column} '{value}' is outside the project ({project_start} to {project_end})",
    ),
    # --- row: several cells -------------------------------------------------------------
    _r(
        "date_after_submission",
        "error",
        "row",
        "{column} '{value}' is after the submission date '{_submitted_on}'",
    ),
    _r(
        "end_before_start",
        "error",
        "row",
        "end_date '{value}' is before start_date '{start_date}'",
        "end_date",
    ),
    _r(
        "duplicate_ref",
        "error",
        "row",
        "{column} '{value}' appears more than once in this sheet; each record needs its own id",
    ),
    _r(
        "staff_exchange_without_guest",
        "error",
        "row",
        "a staff_exchange needs guest_partner_id: the partner whose staff member you hosted",
        "guest_partner_id",
    ),
    _r(
        "staff_exchange_self_guest",
        "error",
        "row",
        "guest_partner_id of a staff_exchange must be another partner, not yourself ('{value}')",
        "guest_partner_id",
    ),
    _r(
        "other_partners_instrument",
        "error",
        "row",
        "policy_instrument_id '{value}' is not your policy instrument (yours: {_own_instrument})",
        "policy_instrument_id",
    ),
    _r(
        "sf_on_non_sf_instrument",
        "error",
        "row",
        "sf_influenced_eur must be 0: '{policy_instrument_id}' is not linked to Structural"
        " Funds; report these funds as other_funds_influenced_eur",
        "sf_influenced_eur",
    ),
    _r(
        "implemented_without_date",
        "error",
        "row",
        "implemented_on is required when status is implemented",
        "implemented_on",
    ),
    _r(
        "event_outside_period",
        "warning",
        "row",
        "start_date '{value}' is outside the reporting period {_period_id}; check the date or"
        " report the event in its own period",
        "start_date",
    ),
    _r(
        "event_type_outside_phase",
        "warning",
        "row",
        "'{event_type}' belongs to another project phase than the event's date '{start_date}'",
        "event_type",
    ),
    _r(
        "date_in_gap",
        "warning",
        "row",
        "{column} '{value}' falls in the gap between phase 2 and the extended phase ({gap}),"
        " when no activity is expected",
    ),
    _r(
        "staff_exchange_too_long",
        "warning",
        "row",
        "a staff exchange lasts up to {staff_exchange_days} days; this one runs from"
        " '{start_date}' to '{value}'",
        "end_date",
    ),
    _r(
        "back_to_back_not_project_meeting",
        "warning",
        "row",
        "back_to_back activities are only reported for project meetings",
        "back_to_back",
    ),
    _r(
        "unknown_column",
        "warning",
        "row",
        "column '{value}' (column {letter}) is not part of the template and was ignored",
    ),
    # --- fact: across workbooks, once the current facts are resolved --------------------
    _r(
        "probable_duplicate",
        "warning",
        "fact",
        "{event_type} on {value} {reported}; a consortium-level event is counted once for the"
        " project, so this row is not counted. If it is a different event, check its type and"
        " start date.",
        "start_date",
    ),
    _r(
        "near_duplicate_ref",
        "warning",
        "fact",
        "{column} '{value}' differs from '{other_ref}' (reported in {other_period}) only in"
        " case, spaces or punctuation; if they are one record, write its ref the same way in"
        " every period, or it is counted twice",
    ),
)

RULES: dict[str, Rule] = {rule.name: rule for rule in _RULE_LIST}
if len(RULES) != len(_RULE_LIST):  # a second declaration would silently win
    raise ValueError("a rule is declared twice in the rule registry")

# Pandera's built-in check names, for the generated field checks that use them.
PANDERA_CHECK_RULES = {"not_nullable": "required_value_missing"}

_FIXED_TERMS = {
    "example_file": "P4/RP07.xlsx",
    "activities": ", ".join(BACK_TO_BACK_ACTIVITIES),
}


def _terms(
    column: str | None, value: object, ref: Reference | None, facts: Mapping[str, object]
) -> dict[str, object]:
    return {
        **_FIXED_TERMS,
        **(ref or reference()).terms,
        "hint": FIELDS[column].hint if column in FIELDS else "a valid value",
        **facts,
        "column": column,
        "value": value,
    }


def message_for(
    name: str, /, *, column: str | None = None, value: object = None, **facts: object
) -> str:
    """The message of a rule alone, for a finding reported before its file is known."""
    rule = RULES[name]
    return rule.message(_terms(column or rule.column, value, None, facts))


def make_issue(
    name: str,
    source: Mapping[str, object],
    /,
    *,
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
    value: object = None,
    ref: Reference | None = None,
    record_ref: object = None,
    **facts: object,
) -> dict[str, object]:
    """The one constructor of a ``validation_issues`` row.

    ``source`` names the file version (``file``, ``sha256``, ``partner_id``,
    ``period_id``; missing keys are empty); ``facts`` are what the rule's template
    quotes beyond the column, the value and the reference terms.
    """
    rule = RULES[name]
    column = column or rule.column
    terms = _terms(column, value, ref, {**source, "sheet": sheet, **facts})
    return {
        "partner_id": source.get("partner_id"),
        "period_id": source.get("period_id"),
        "file": source.get("file"),
        "sha256": source.get("sha256"),
        "sheet": sheet,
        "row": row,
        "column": column,
        "record_ref": as_text(record_ref),
        "value": as_text(value),
        "severity": rule.severity,
        "rule": name,
        "message": rule.message(terms),
    }
