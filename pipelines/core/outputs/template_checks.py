"""What the partner workbook checks, column by column, and who it is for.

Each column's drop-down or range check, and the words the Guide uses for it, come from
the field definitions and the reference data here, so that the xlsx writer and the
Guide in :mod:`pipelines.core.outputs.template` describe the very same checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.core.metadata.fields import Field
from pipelines.core.reference.loader import reference
from pipelines.core.reference.model import Reference

# Excel keeps an inline drop-down list in at most 255 characters.
_MAX_INLINE_LIST = 255

# Cover fields the template fills in and the partner should leave alone.
PREFILLED_COVER = ("partner_id", "period_id", "template_version")

# A column that takes several values cannot have a drop-down: say so instead.
_MULTI_VALUE_NOTES = {
    "back_to_back": "no drop-down: several values are allowed, separate them with ';'",
}


class TemplateError(ValueError):
    """The workbook cannot be written as asked (unknown partner, period, sheet or column)."""


@dataclass(frozen=True)
class Check:
    """A data-validation rule for one column and how the Guide describes it."""

    options: dict[str, object] | None
    note: str


@dataclass(frozen=True)
class Context:
    """What a workbook is for: the partner, the period and the reference data."""

    partner_id: str
    period_id: str
    ref: Reference

    @property
    def period(self) -> dict:
        return self.ref.period(self.period_id)

    @property
    def instruments(self) -> tuple[str, ...]:
        """The partner's policy instruments (none, one or several)."""
        return self.ref.instruments_of(self.partner_id)


def context_for(partner_id: str, period_id: str) -> Context:
    """Check that the partner reports for the period; the message lists what is valid."""
    ref = reference()
    if partner_id not in ref.partner_ids:
        raise TemplateError(
            f"unknown partner {partner_id!r}; valid partner ids: {', '.join(ref.partner_ids)}"
        )
    if period_id not in ref.period_ids:
        raise TemplateError(
            f"unknown period {period_id!r}; valid period ids: {', '.join(ref.period_ids)}"
        )
    if not ref.takes_part(partner_id, period_id):
        own = [p for p in ref.period_ids if ref.takes_part(partner_id, p)]
        raise TemplateError(
            f"{partner_id} takes no part in {period_id} (phase {ref.period(period_id)['phase']});"
            f" {partner_id} reports for: {', '.join(own)}"
        )
    return Context(partner_id, period_id, ref)


def _list_check(values: Sequence[str], note: str) -> Check:
    """A drop-down list, or only the Guide's word when Excel cannot hold the list inline."""
    source = list(values)
    if len(",".join(source)) > _MAX_INLINE_LIST:
        return Check(None, "one of: " + ", ".join(source))
    return Check(
        {
            "validate": "list",
            "source": source,
            "error_title": "Not in the list",
            "error_message": _limited("Choose one of: " + ", ".join(source)),
        },
        note,
    )


def _limited(message: str) -> str:
    """Excel drops a validation whose error message is longer than 255 characters."""
    return message if len(message) <= _MAX_INLINE_LIST else "Choose a value from the list."


def _range_check(
    field: Field,
    validate: str,
    minimum: object,
    maximum: object,
    note: str | None = None,
    hint: str | None = None,
) -> Check:
    if maximum is None:
        options = {"validate": validate, "criteria": ">=", "value": minimum}
    else:
        options = {"validate": validate, "criteria": "between", "minimum": minimum}
        options["maximum"] = maximum
    options["error_title"] = "Not accepted"
    hint = hint or field.hint
    options["error_message"] = f"{field.name}: {hint}."
    return Check(options, note or f"checked: {hint}")


def check_for(field: Field, ctx: Context) -> Check:
    """The drop-down or check a record column gets, derived from its field definition."""
    if field.name == "policy_instrument_id":
        if not ctx.instruments:
            return Check(None, f"{ctx.partner_id} has no policy instrument: leave the sheet empty")
        own = ", ".join(ctx.instruments)
        return _list_check(ctx.instruments, f"drop-down: {own}, your instrument(s)")
    if field.name == "guest_partner_id":
        others = [p for p in ctx.ref.partner_ids if p != ctx.partner_id]
        return _list_check(others, "drop-down: the other partners")
    allowed = field.allowed(ctx.ref)
    if allowed:
        return _list_check(allowed, "drop-down")
    if field.kind == "date":
        start, end = ctx.ref.project_start, ctx.ref.project_end
        note = f"checked: a date from {start} to {end}"
        return _range_check(field, "date", start, end, note)
    low, high = field.bounds(ctx.ref)
    if field.kind in ("integer", "decimal") and low is not None:
        return _range_check(field, field.kind, low, high, hint=field.hint_for(ctx.ref))
    return Check(None, _MULTI_VALUE_NOTES.get(field.name, ""))


def cover_check(field: Field, ctx: Context) -> Check:
    """Cover cells: the partner only fills in the submission date and the contact."""
    if field.name in PREFILLED_COVER:
        return Check(None, "pre-filled: keep as it is")
    if field.name == "submitted_on":
        start = ctx.period["start_date"]
        options = {"validate": "date", "criteria": ">=", "value": start}
        options["error_message"] = f"A date on or after {start}, when you send the workbook."
        return Check(options, f"fill in: the date you send the workbook (after {start})")
    return Check(None, "fill in")
