"""Issue rows and messages: a rule of the registry worded with the facts of one finding.

The rule registry (:mod:`pipelines.core.metadata.rules`) holds each message's template;
this module fills it in. Beyond what the finder hands over, a message quotes the project
at hand (its dates, gaps, id ranges, the example file names), so every message is made
with the reference it is about and editing a reference file changes the messages too.
:func:`make_issue` is the one constructor of a ``validation_issues`` row.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from pipelines.core.intake.parsing import as_text
from pipelines.core.metadata.fields import BACK_TO_BACK_ACTIVITIES, FIELDS
from pipelines.core.metadata.rules import RULES
from pipelines.core.reference.model import Reference

ISSUE_COLUMNS = (
    "partner_id",
    "period_id",
    "file",
    "sha256",
    "sheet",
    "row",
    "column",
    "record_ref",
    "value",
    "severity",
    "rule",
    "message",
)
"""The columns of an issue row inside the pipeline (rules, states, feedback workbooks); the
published ``validation_issues`` renames row and column, both SQL reserved words."""

_FIXED_TERMS = {"activities": ", ".join(BACK_TO_BACK_ACTIVITIES)}


def _examples(ref: Reference) -> dict[str, str]:
    """Example names a message shows, taken from the project in use so that they are
    names its partners can write (its first partner and period)."""
    partner, period = ref.partner_ids[0], ref.period_ids[0]
    return {"example_file": f"{partner}/{period}.xlsx", "example_period": period}


def _hint(ref: Reference, sheet: object, column: str | None) -> str:
    """What the column takes, in words: from the sheet's own declaration where the project
    declares the sheet (sheets.yaml), else from the field registry."""
    declared = next((s for s in ref.record_sheets if s.name == sheet), None)
    if declared is not None and column in declared.column_names:
        return declared.column(column).hint_for(ref)
    return FIELDS[column].hint_for(ref) if column in FIELDS else "a valid value"


def _shown(value: object) -> str:
    """A term as the partner reads it: the cell as written, or 'empty'."""
    text = as_text(value)
    return "empty" if text is None else text


def _terms(
    column: str | None, value: object, ref: Reference, facts: Mapping[str, object]
) -> dict[str, str]:
    terms = {
        **_FIXED_TERMS,
        **_examples(ref),
        **ref.terms,
        "hint": _hint(ref, facts.get("sheet"), column),
        **facts,
        "column": column,
        "value": value,
    }
    return {name: _shown(term) for name, term in terms.items()}


def message_for(
    name: str,
    /,
    *,
    ref: Reference,
    column: str | None = None,
    value: object = None,
    **facts: object,
) -> str:
    """The message of a rule alone, for a finding reported before its file is known."""
    rule = RULES[name]
    return rule.message(_terms(column or rule.column, value, ref, facts))


def make_issue(
    name: str,
    source: Mapping[str, object],
    /,
    *,
    ref: Reference,
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
    value: object = None,
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


def issues_frame(rows: list[dict]) -> pd.DataFrame:
    """Issue rows as a frame with exactly the ``validation_issues`` columns."""
    frame = pd.DataFrame(rows, columns=list(ISSUE_COLUMNS))
    frame["row"] = frame["row"].astype("Int64")
    return frame
