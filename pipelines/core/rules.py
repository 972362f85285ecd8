"""The validation rules of SPEC section 4: name, severity and the message a partner reads.

Every rule a Pandera check can fail maps here by its check name, so the wording a
partner sees is written once and the severity decides whether the row is quarantined
(error) or kept with its warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pipelines.core.fields import BACK_TO_BACK_ACTIVITIES, FIELDS

Message = Callable[[str, str | None, Mapping[str, object]], str]


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str
    message: Message
    column: str | None = None


def _hint(column: str) -> str:
    return FIELDS[column].hint if column in FIELDS else "a valid value"


def _text(row: Mapping[str, object], column: str) -> str:
    value = row.get(column)
    return "empty" if value is None else f"'{value}'"


_RULE_LIST: tuple[Rule, ...] = (
    # --- cell rules (column checks) ---------------------------------------------
    Rule("required_value_missing", "error", lambda c, v, r: f"{c} is required; fill it in"),
    Rule("wrong_type", "error", lambda c, v, r: f"{c} must be {_hint(c)}, got '{v}'"),
    Rule("not_in_enumeration", "error", lambda c, v, r: f"{c} must be {_hint(c)}, got '{v}'"),
    Rule("unknown_partner", "error", lambda c, v, r: f"{c} '{v}' is not a project partner id"),
    Rule(
        "unknown_back_to_back_activity",
        "error",
        lambda c, v, r: (
            f"{c} '{v}' names an activity that is not one of: "
            + ", ".join(BACK_TO_BACK_ACTIVITIES)
            + " (separate several with ';')"
        ),
    ),
    Rule("negative_value", "error", lambda c, v, r: f"{c} must be {_hint(c)}, got '{v}'"),
    Rule("out_of_range", "error", lambda c, v, r: f"{c} must be {_hint(c)}, got '{v}'"),
    Rule(
        "date_outside_project",
        "error",
        lambda c, v, r: f"{c} '{v}' is outside the project (2016-04-01 to 2023-03-31)",
    ),
    # --- row rules (dataframe checks) --------------------------------------------
    Rule(
        "date_after_submission",
        "error",
        lambda c, v, r: f"{c} '{v}' is after the submission date {_text(r, '_submitted_on')}",
    ),
    Rule(
        "end_before_start",
        "error",
        lambda c, v, r: f"end_date '{v}' is before start_date {_text(r, 'start_date')}",
        column="end_date",
    ),
    Rule(
        "duplicate_ref",
        "error",
        lambda c, v, r: (
            f"{c} '{v}' appears more than once in this sheet; each record needs its own id"
        ),
    ),
    Rule(
        "staff_exchange_without_guest",
        "error",
        lambda c, v, r: (
            "a staff_exchange needs guest_partner_id: the partner whose staff member you hosted"
        ),
        column="guest_partner_id",
    ),
    Rule(
        "staff_exchange_self_guest",
        "error",
        lambda c, v, r: (
            f"guest_partner_id of a staff_exchange must be another partner, not yourself ('{v}')"
        ),
        column="guest_partner_id",
    ),
    Rule(
        "other_partners_instrument",
        "error",
        lambda c, v, r: (
            f"policy_instrument_id '{v}' is not your policy instrument"
            f" ({r.get('_own_instrument') or 'you have none'})"
        ),
        column="policy_instrument_id",
    ),
    Rule(
        "sf_on_non_sf_instrument",
        "error",
        lambda c, v, r: (
            f"sf_influenced_eur must be 0: {_text(r, 'policy_instrument_id')} is"
            " not linked to Structural Funds; report these funds as other_funds_influenced_eur"
        ),
        column="sf_influenced_eur",
    ),
    Rule(
        "implemented_without_date",
        "error",
        lambda c, v, r: "implemented_on is required when status is implemented",
        column="implemented_on",
    ),
    # --- review --------------------------------------------------------------------
    Rule(
        "period_locked",
        "error",
        lambda c, v, r: (
            f"the coordinator approved your workbook for {r.get('period_id')} and locked the"
            " period: this file was not read and the approved version stays in use. If"
            " something must change, ask the coordinator to reopen the period, then put the"
            " corrected workbook in your folder again"
        ),
    ),
    # --- warnings -----------------------------------------------------------------
    Rule(
        "event_outside_period",
        "warning",
        lambda c, v, r: (
            f"start_date '{v}' is outside the reporting period"
            f" {r.get('_period_id')}; check the date or report the event in its own period"
        ),
        column="start_date",
    ),
    Rule(
        "event_type_outside_phase",
        "warning",
        lambda c, v, r: (
            f"{_text(r, 'event_type')} belongs to another project phase than"
            f" the event's date {_text(r, 'start_date')}"
        ),
        column="event_type",
    ),
    Rule(
        "date_in_gap",
        "warning",
        lambda c, v, r: (
            f"{c} '{v}' falls in the 2021-04-01..2021-09-30 gap between phase 2"
            " and the extended phase, when no activity is expected"
        ),
    ),
    Rule(
        "staff_exchange_too_long",
        "warning",
        lambda c, v, r: (
            "a staff exchange lasts up to 2 weeks; this one runs from"
            f" {_text(r, 'start_date')} to '{v}'"
        ),
        column="end_date",
    ),
    Rule(
        "back_to_back_not_project_meeting",
        "warning",
        lambda c, v, r: "back_to_back activities are only reported for project meetings",
        column="back_to_back",
    ),
    Rule(
        "unknown_column",
        "warning",
        lambda c, v, r: f"column '{v}' is not part of the template and was ignored",
    ),
)

RULES: dict[str, Rule] = {rule.name: rule for rule in _RULE_LIST}

# Pandera's own check names for the generated field checks.
PANDERA_CHECK_RULES = {"not_nullable": "required_value_missing", "isin": "not_in_enumeration"}
