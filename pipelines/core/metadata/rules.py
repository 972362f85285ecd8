"""Every validation rule, declared once: its name, severity, level and message template.

A partner reads the message, so its wording lives here and nowhere else; the code that
finds a problem only names the rule and hands over the facts the template quotes. The
facts a message takes from the project (its dates, a gap between periods, the length of
a staff exchange, the partner and period ids, the example file names) come from the
reference data (:mod:`pipelines.core.intake.issues` fills them in), so editing a
reference file changes the messages too.

``level`` says
what a failure refuses: ``file`` and ``workbook`` errors reject the whole file (a
``workbook`` warning names a part of it that was not read), ``row`` and ``fact`` rules
quarantine the row (error) or keep it with a warning.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
Level = Literal["file", "workbook", "row", "fact"]


@dataclass(frozen=True)
class Rule:
    """One rule. ``description`` says in plain words what the rule asks of a workbook
    (shown to partners beside each issue, in place of the rule's name); ``template`` is a
    ``str.format`` template of the message; ``column`` is the column an issue points at
    when the finder does not say (row rules about one column)."""

    name: str
    severity: Severity
    level: Level
    description: str
    template: str
    column: str | None = None

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(
            name for _, name, _, _ in string.Formatter().parse(self.template) if name is not None
        )

    def message(self, terms: Mapping[str, str]) -> str:
        """The message with every placeholder filled by its term, already in words."""
        return self.template.format_map({name: terms[name] for name in self.placeholders})


def _r(
    name: str,
    severity: Severity,
    level: Level,
    description: str,
    template: str,
    column: str | None = None,
) -> Rule:
    return Rule(name, severity, level, description, template, column)


_WRONG = "{column} must be {hint}, got '{value}'"
_SAVE_AGAIN = "save your workbook again and replace the file"
_NOT_A_WORKBOOK = "this file is not an .xlsx or .ods workbook"
_SAVE_AS = "save it from your spreadsheet program as Excel Workbook (.xlsx)"
_BOMB = (
    "this is not a normal workbook (a 'decompression bomb'). Save your workbook again from"
    " your spreadsheet program, or contact the coordinator if it really is this large"
)

_RULE_LIST: tuple[Rule, ...] = (
    # --- file: the drop folder (discovery) ----------------------------------------------
    _r(
        "symlink",
        "error",
        "file",
        "The workbook must be a real file, not a link to one",
        "{file} is a symbolic link; links are never followed. Put the workbook itself in"
        " your folder, e.g. {example_file}",
    ),
    _r(
        "not_a_regular_file",
        "error",
        "file",
        "Only ordinary files can be read",
        "{file} is not a regular file (a pipe, socket or device) and cannot be read",
    ),
    _r(
        "outside_partner_folder",
        "error",
        "file",
        "Each workbook goes in its partner's folder",
        "{file} is not in a partner folder; put each workbook in the folder of its partner,"
        " e.g. {example_file}",
    ),
    _r(
        "in_sub_folder",
        "error",
        "file",
        "Workbooks go directly in the partner folder, not in a sub-folder",
        "{file} is in a sub-folder, and files in sub-folders are not read; put the workbook"
        " directly in the partner folder, e.g. {example_file}",
    ),
    _r(
        "unknown_partner_folder",
        "error",
        "file",
        "The folder must be named after a project partner",
        "the folder '{folder}' is not a partner id ({partner_range}){did_you_mean}; put the"
        " workbook in your own partner folder, e.g. {example_file}",
    ),
    _r(
        "unsupported_file_type",
        "error",
        "file",
        "Only .xlsx and .ods workbooks are read",
        "{file}: {kind} not accepted (.xlsm, .xls, .csv and other formats are refused); only"
        " .xlsx and .ods workbooks are read. Open the file in your spreadsheet program and"
        " save it as Excel Workbook (.xlsx)",
    ),
    _r(
        "copy_of_workbook",
        "error",
        "file",
        "The folder holds no copy of a period's workbook",
        "'{name}' is named like a copy of your {period_id} workbook (a sync tool's conflict"
        " copy, a second download or a copy made by hand), so it is not read. If it is the"
        " version you mean to submit, rename it to {period_id}{suffix}, replacing the file"
        " there; otherwise delete it",
    ),
    _r(
        "unknown_period_file",
        "error",
        "file",
        "The file must be named after a reporting period",
        "{file}: '{stem}' is not a reporting period id ({period_range}){did_you_mean}; name the"
        " workbook after the period it reports on, e.g. {example_period}.xlsx",
    ),
    _r(
        "several_workbooks",
        "error",
        "file",
        "One workbook per partner and period",
        "{partner_id} has {count} workbooks for {period_id} ({files}); keep only one in your"
        " folder. The last accepted version is used meanwhile",
    ),
    _r(
        "file_changed_while_read",
        "warning",
        "file",
        "The file must not change while it is being read",
        "{file} disappeared or changed while it was being read; it is read again on the next run",
    ),
    # --- file: a partner-period the coordinator approved (pipelines.core.state.review) ---------
    _r(
        "period_locked",
        "error",
        "file",
        "A period the coordinator approved takes no new workbook",
        "the coordinator approved your workbook for {period_id} and locked the period: this"
        " file was not read and the approved version stays in use. If something must change,"
        " ask the coordinator to reopen the period, then put the corrected workbook in your"
        " folder again",
    ),
    # --- workbook: the file and its container (pipelines.core.intake.guard) -------------------
    _r(
        "unreadable_file",
        "error",
        "workbook",
        "The workbook must open",
        "the file cannot be opened ({reason}); put the workbook itself in your folder (not a"
        " link or shortcut to it), readable by everyone who runs the pipeline",
    ),
    _r(
        "empty_file",
        "error",
        "workbook",
        "The file must not be empty",
        "the file is empty (0 bytes); " + _SAVE_AGAIN,
    ),
    _r(
        "file_too_large",
        "error",
        "workbook",
        "A workbook may not be larger than the size limit",
        "the file is larger than the {limit} a report workbook may be; remove pictures,"
        " embedded files and unused sheets, then save it again",
    ),
    _r(
        "not_a_spreadsheet",
        "error",
        "workbook",
        "The file must be a spreadsheet workbook",
        f"{_NOT_A_WORKBOOK}; {_SAVE_AS}",
    ),
    _r(
        "legacy_excel_file",
        "error",
        "workbook",
        "The workbook must be saved as .xlsx, not as an old .xls or with a password",
        f"{_NOT_A_WORKBOOK}: it looks like an old Excel 97-2003 (.xls) file or a"
        f" password-protected workbook (they are stored alike); remove any password and"
        f" {_SAVE_AS}",
    ),
    _r(
        "binary_workbook",
        "error",
        "workbook",
        "The workbook must be saved as .xlsx, not as a binary .xlsb",
        f"{_NOT_A_WORKBOOK}: it is an Excel binary workbook (.xlsb); {_SAVE_AS}",
    ),
    _r(
        "not_a_spreadsheet_document",
        "error",
        "workbook",
        "The OpenDocument file must be a spreadsheet (.ods)",
        f"{_NOT_A_WORKBOOK}: it is an OpenDocument file but not a spreadsheet; {_SAVE_AS}",
    ),
    _r(
        "no_workbook_inside",
        "error",
        "workbook",
        "The file must be a spreadsheet workbook, not another document renamed",
        f"{_NOT_A_WORKBOOK}: it is a zip archive with no spreadsheet inside (perhaps another"
        f" kind of document renamed); {_SAVE_AS}",
    ),
    _r(
        "password_protected",
        "error",
        "workbook",
        "The workbook must not be protected with a password",
        "the workbook is protected with a password, so it cannot be read; remove the"
        " password (in Excel: File > Info > Protect Workbook > Encrypt with Password, clear"
        " it; in LibreOffice: File > Save As, untick 'Save with password') and save it"
        " again",
    ),
    _r(
        "damaged_file",
        "error",
        "workbook",
        "The file must not be damaged",
        "the file is damaged and cannot be opened (it may have been cut short while copying"
        " or uploading); " + _SAVE_AGAIN,
    ),
    _r(
        "damaged_part",
        "error",
        "workbook",
        "Every part of the workbook must be readable",
        "the file is damaged: its part '{part}' is unreadable ({defect}); " + _SAVE_AGAIN,
    ),
    _r(
        "duplicate_part",
        "error",
        "workbook",
        "The workbook must not hold the same part twice",
        "the file is damaged: it holds the part '{part}' twice; " + _SAVE_AGAIN,
    ),
    _r(
        "too_many_parts",
        "error",
        "workbook",
        "The workbook must not hold more parts (sheets, images) than allowed",
        "the file holds {parts} parts (sheets, pictures, styles and the like), more than the"
        " {limit} a report workbook may have; delete the sheets, pictures and embedded"
        " files the report does not need, then save it again",
    ),
    _r(
        "zip_bomb",
        "error",
        "workbook",
        "The workbook must not expand to an abnormal size when opened",
        "the part '{part}' expands more than {ratio} times its compressed size, which a"
        " workbook never does; " + _BOMB,
    ),
    _r(
        "content_too_large",
        "error",
        "workbook",
        "The workbook must not expand beyond the size allowed when opened",
        "the file expands to {size} or more once opened, beyond the {limit} allowed; " + _BOMB,
    ),
    _r(
        "too_much_text",
        "error",
        "workbook",
        "The cells must not expand to more text than allowed when opened",
        "the cells of the workbook expand to more than {limit} characters of text once"
        " opened (the same long text copied into very many cells); " + _BOMB,
    ),
    _r(
        "sheet_too_large",
        "error",
        "workbook",
        "A sheet may not use more rows and columns than the limit",
        "sheet '{sheet}' holds values in the range {used}, beyond the {rows} rows and {columns}"
        " columns ({allowed}) a sheet may have; delete what is after your data (select"
        " those rows and columns, Delete) and save the workbook again",
    ),
    # --- workbook: what the reader cannot read (pipelines.core.intake.workbook) ------------------
    _r(
        "unknown_sheet_kind",
        "error",
        "workbook",
        "Every sheet must be an ordinary worksheet",
        "the workbook holds a sheet of a kind that cannot be read (an Excel 4.0 macro sheet"
        " or similar, stored as '{part}'); delete that sheet, or copy your report into a new"
        " workbook, and save it again",
    ),
    _r(
        "ods_without_mimetype",
        "error",
        "workbook",
        "An .ods file must be saved by a spreadsheet program",
        "the .ods file lacks its 'mimetype' part, so it was not saved by a spreadsheet"
        " program (perhaps zipped again by hand); open it in LibreOffice and save it again",
    ),
    _r(
        "reformatted_ods",
        "error",
        "workbook",
        "An .ods file must be saved by a spreadsheet program, not edited by hand",
        "the .ods file's content has been reformatted (it has text between its cells, as"
        " when the XML inside is pretty-printed); open it in LibreOffice and save it again",
    ),
    _r(
        "unsupported_encoding",
        "error",
        "workbook",
        "Every part of the workbook must be in UTF-8",
        "the part '{part}' of the workbook is not in UTF-8, the only text encoding that can"
        " be read; open the workbook in Excel or LibreOffice and save it again",
    ),
    _r(
        "unreadable_workbook",
        "error",
        "workbook",
        "The workbook must be readable",
        "the workbook cannot be read: {reason}; open it in Excel or LibreOffice and save it"
        " again as Excel Workbook (.xlsx)",
    ),
    _r(
        "unreadable_sheet",
        "error",
        "workbook",
        "Every sheet read must be readable",
        "sheet '{sheet}' cannot be read: {reason}; open the workbook in Excel or LibreOffice"
        " and save it again as Excel Workbook (.xlsx)",
    ),
    # --- workbook: its sheets and columns (pipelines.core.intake.workbook) ----------------------
    _r(
        "missing_sheet",
        "error",
        "workbook",
        "The workbook has every sheet of the template",
        "the workbook has no sheet {missing}; it needs the sheets {wanted} (sheets found: {found})",
    ),
    _r(
        "missing_column",
        "error",
        "workbook",
        "Each sheet has every required column of the template",
        "sheet '{sheet}' has no column {missing} in its header row (row 1), and it is"
        " required (columns found: {found})",
    ),
    _r(
        "duplicate_sheet",
        "error",
        "workbook",
        "Each sheet of the template appears once",
        "the workbook has {count} sheets that read as '{sheet}': {sheets}; it is not clear"
        " which one holds your report, so delete or rename the others (hidden sheets too:"
        " right-click a sheet tab, Unhide)",
    ),
    _r(
        "unread_sheet",
        "warning",
        "workbook",
        "Data sits only on the sheets the pipeline reads",
        "sheet '{sheet}'{hidden} holds data but is not read: only the sheets {read} are. If"
        " its rows belong in your report, move them to the sheet they belong on; otherwise"
        " delete the sheet (hidden sheets too: right-click a sheet tab, Unhide)",
    ),
    _r(
        "duplicate_column",
        "error",
        "workbook",
        "Each column header appears once in a sheet",
        "sheet '{sheet}' has a duplicate column '{column}' (columns {letters}); it is not clear"
        " which one holds the values, so delete or rename the others",
    ),
    # --- workbook: the Cover ----------------------------------------------------------
    _r(
        "unknown_cover_partner",
        "error",
        "workbook",
        "The Cover names a project partner",
        "Cover partner_id '{value}' is not a project partner ({partner_range})",
        "partner_id",
    ),
    _r(
        "partner_mismatch",
        "error",
        "workbook",
        "The Cover names the partner whose folder holds the file",
        "Cover names partner {value} but the file is in the folder of {folder_partner}; a"
        " partner may only submit in its own folder",
        "partner_id",
    ),
    _r(
        "unknown_cover_period",
        "error",
        "workbook",
        "The Cover names a reporting period",
        "Cover period_id '{value}' is not a reporting period ({period_range})",
        "period_id",
    ),
    _r(
        "period_mismatch",
        "error",
        "workbook",
        "The Cover names the period the file is named after",
        "Cover names period {value} but the file is named {file_period}; name the file after"
        " the period it reports on",
        "period_id",
    ),
    _r(
        "not_in_phase",
        "error",
        "workbook",
        "The partner takes part in the period's phase",
        "{partner} takes no part in the phase of {value}; no workbook is expected",
        "period_id",
    ),
    _r(
        "unsupported_template_version",
        "error",
        "workbook",
        "The workbook uses a supported version of the template",
        "template_version '{value}' is not supported; use a template of version"
        " {template_version} (clusterix template {partner} {period})",
        "template_version",
    ),
    _r(
        "submitted_on_not_a_date",
        "error",
        "workbook",
        "The Cover's submission date is a date",
        "Cover submitted_on must be {hint}, got '{value}'; on-time reporting and the dates"
        " after submission depend on it, so the workbook is not used until it is a date",
        "submitted_on",
    ),
    # --- row: one cell ------------------------------------------------------------------
    _r(
        "required_value_missing",
        "error",
        "row",
        "A required value is filled in",
        "{column} is required; fill it in",
    ),
    _r(
        "wrong_type",
        "error",
        "row",
        "A value has the expected form (number, date, link...)",
        _WRONG,
    ),
    _r(
        "not_in_enumeration",
        "error",
        "row",
        "A value is one of the choices of the drop-down list",
        _WRONG,
    ),
    _r(
        "ambiguous_number",
        "error",
        "row",
        "A number is typed without thousands separators",
        "{column} '{value}' is a number typed as text with a separator, which reads"
        " differently from country to country (1.500 is 1500 in some and 1.5 in others);"
        " type the number itself: digits only, no thousands separator, a dot before any"
        " cents (e.g. 1500000 or 1500.50)",
    ),
    _r(
        "error_cell",
        "error",
        "row",
        "A cell holds a value, not a spreadsheet error",
        "{column} holds the spreadsheet error {value}, not a value; correct the formula or"
        " type the value itself",
    ),
    _r(
        "formula_without_value",
        "error",
        "row",
        "A formula cell must hold its saved result",
        "{column} holds the formula {value} without its result: the program that wrote the"
        " file did not calculate it, so there is no value to read. Open the workbook in your"
        " spreadsheet program (Excel, LibreOffice), save it, and replace the file",
    ),
    _r(
        "number_format_misleads",
        "error",
        "row",
        "An amount or count is not shown as a percentage, date or time",
        "{column} shows '{value}' in your sheet, because the cell is formatted as"
        " {shown_as}: the number it holds is not the one you see, and would be published"
        " as it is. Format the cell as a number (Format Cells > Number) and type the figure"
        " itself",
    ),
    _r(
        "character_outside_alphabet",
        "error",
        "row",
        "Ids and refs use only letters, digits, spaces and keyboard signs",
        "{column} '{value}' has the character '{character}' ({character_name}) at position"
        " {position}, which may look like another but is not the same, so the same id would"
        " count as two. Ids and refs are written with {alphabet} only: retype it",
    ),
    _r(
        "hidden_row",
        "error",
        "row",
        "A record is not on a hidden row",
        "row {row_number} of sheet '{sheet}' is hidden but holds a record, which would be counted"
        " although it is not seen; it is not read. Delete the row if it is not part of your"
        " report, or unhide it (select the rows around it, right-click, Unhide)",
    ),
    _r(
        "hidden_column",
        "error",
        "row",
        "A value is not in a hidden column",
        "{column} is in column {letter}, which is hidden, so its value '{value}' is not seen"
        " in your sheet; unhide the column (select the columns around it, right-click,"
        " Unhide), check the value, and save",
    ),
    _r(
        "merged_cell",
        "error",
        "row",
        "Cells are not merged",
        "{column} is part of the merged cells {value}, so its own value is lost; unmerge the"
        " cells and type the value in each row and column",
    ),
    _r(
        "computed_hyperlink",
        "error",
        "row",
        "A link's address is typed, not computed by a formula",
        "{column} is a HYPERLINK formula whose address is computed, and '{value}' is only its"
        " text; type or paste the address itself (https://...)",
    ),
    _r("negative_value", "error", "row", "A count or amount is not negative", _WRONG),
    _r("out_of_range", "error", "row", "A value lies within its allowed range", _WRONG),
    _r(
        "unknown_guest_partner_id",
        "error",
        "row",
        "A guest partner is a project partner",
        "{column} '{value}' is not a project partner id ({partner_range})",
        "guest_partner_id",
    ),
    _r(
        "unknown_country",
        "error",
        "row",
        "A country is a two-letter ISO country code",
        "{column} '{value}' is not an ISO 3166 alpha-2 country code; write the two capital"
        " letters of the country, e.g. AT, RO or SE",
    ),
    _r(
        "unknown_back_to_back_activity",
        "error",
        "row",
        "A back-to-back activity is one of the listed activities",
        "{column} '{value}' names an activity that is not one of: {activities} (separate"
        " several with ';')",
        "back_to_back",
    ),
    _r(
        "date_outside_project",
        "error",
        "row",
        "A date lies within the project's duration",
        "{column} '{value}' is outside the project ({project_start} to {project_end})",
    ),
    # --- row: several cells -------------------------------------------------------------
    _r(
        "date_after_submission",
        "error",
        "row",
        "A date is not after the workbook's submission date",
        "{column} '{value}' is after the submission date '{_submitted_on}'",
    ),
    _r(
        "end_before_start",
        "error",
        "row",
        "An end date is not before its start date",
        "end_date '{value}' is before start_date '{start_date}'",
        "end_date",
    ),
    _r(
        "duplicate_ref",
        "error",
        "row",
        "Each record of a sheet has its own ref",
        "{column} '{value}' appears more than once in this sheet; each record needs its own id",
    ),
    _r(
        "guest_partner_missing",
        "error",
        "row",
        "An event of a type that hosts another partner names its guest partner",
        "a {event_type} needs guest_partner_id: the partner you hosted",
        "guest_partner_id",
    ),
    _r(
        "guest_partner_is_self",
        "error",
        "row",
        "An event's guest is another partner",
        "guest_partner_id of a {event_type} must be another partner, not yourself ('{value}')",
        "guest_partner_id",
    ),
    _r(
        "other_partners_instrument",
        "error",
        "row",
        "A measure concerns your own policy instrument",
        "policy_instrument_id '{value}' is not your policy instrument (yours: {_own_instrument})",
        "policy_instrument_id",
    ),
    _r(
        "sf_on_non_sf_instrument",
        "error",
        "row",
        "Structural Funds are reported only for an instrument linked to them",
        "sf_influenced_eur must be 0: '{policy_instrument_id}' is not linked to Structural"
        " Funds; report these funds as other_funds_influenced_eur",
        "sf_influenced_eur",
    ),
    _r(
        "implemented_without_date",
        "error",
        "row",
        "An implemented measure has its implementation date",
        "implemented_on is required when status is implemented",
        "implemented_on",
    ),
    _r(
        "event_outside_period",
        "warning",
        "row",
        "An event falls in the period it is reported in",
        "start_date '{value}' is outside the reporting period {_period_id}; check the date or"
        " report the event in its own period",
        "start_date",
    ),
    _r(
        "event_type_outside_phase",
        "warning",
        "row",
        "An event's type belongs to the phase of its date",
        "'{event_type}' belongs to another project phase than the event's date '{start_date}'",
        "event_type",
    ),
    _r(
        "date_in_gap",
        "warning",
        "row",
        "No activity is dated in a gap between reporting periods",
        "{column} '{value}' falls in a gap between reporting periods ({gap}), when no"
        " activity is expected",
    ),
    _r(
        "event_too_long",
        "warning",
        "row",
        "An event lasts no longer than its type allows",
        "a {event_type} lasts up to {max_days} days; this one runs from"
        " '{start_date}' to '{value}'",
        "end_date",
    ),
    _r(
        "back_to_back_not_allowed",
        "warning",
        "row",
        "Back-to-back activities are reported only for the event types that allow them",
        "back_to_back activities are not reported for a {event_type}; only for"
        " {back_to_back_types}",
        "back_to_back",
    ),
    _r(
        "unknown_column",
        "warning",
        "row",
        "Columns outside the template are ignored",
        "column '{value}' (column {letter}) is not part of the template and was ignored",
    ),
    # --- fact: across workbooks, once the current facts are resolved --------------------
    _r(
        "probable_duplicate",
        "warning",
        "fact",
        "A consortium event reported by several partners is counted once",
        "{event_type} on {value} {reported}; a consortium-level event is counted once for the"
        " project, so this row is not counted. If it is a different event, check its type and"
        " start date.",
        "start_date",
    ),
    _r(
        "near_duplicate_ref",
        "warning",
        "fact",
        "One record keeps the same ref in every period",
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
