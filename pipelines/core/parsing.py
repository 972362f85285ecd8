"""Turning spreadsheet cells into typed values, and typed values back into text.

Cells arrive as calamine gives them: ``str``, ``int``/``float``, ``bool``,
``datetime``/``date`` or ``None``. Each is parsed once into the field's kind. A cell
that cannot be parsed becomes an :class:`Invalid` that remembers what was written, so
the Pandera checks can report it as a wrong type and every other rule can skip it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pandas as pd

from pipelines.core.fields import Field

_INT_TEXT = re.compile(r"^[+-]?\d+$")
_DECIMAL_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Invalid:
    """A cell whose content does not fit its column's kind."""

    raw: object


def is_invalid(value: object) -> bool:
    return isinstance(value, Invalid)


def is_missing(value: object) -> bool:
    """None, pandas' NA/NaT or a float NaN: the forms an empty cell takes in a frame."""
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and value != value)
    )


def _parse_string(value: object) -> object:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _parse_integer(value: object) -> object:
    if isinstance(value, bool):
        return Invalid(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else Invalid(value)
    if isinstance(value, str) and _INT_TEXT.match(value):
        return int(value)
    return Invalid(value)


def _parse_decimal(value: object) -> object:
    if isinstance(value, bool):
        return Invalid(value)
    if isinstance(value, int | float):
        # repr() is the shortest text that round-trips the spreadsheet's double, so the
        # Decimal is exactly the amount the partner typed, never a binary approximation.
        text = repr(value)
    elif isinstance(value, str) and _DECIMAL_TEXT.match(value):
        text = value
    else:
        return Invalid(value)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return Invalid(value)
    if not amount.is_finite() or amount != amount.quantize(CENT):
        return Invalid(value)
    return amount.quantize(CENT)


def _parse_date(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else Invalid(value)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return Invalid(value)
    return Invalid(value)


_PARSERS = {
    "string": _parse_string,
    "integer": _parse_integer,
    "decimal": _parse_decimal,
    "date": _parse_date,
}


def parse_column(field: Field, values: pd.Series) -> pd.Series:
    """Typed values of one column (object dtype): value, ``None`` or :class:`Invalid`."""
    parse = _PARSERS[field.kind]
    parsed = [None if is_missing(v) else parse(v) for v in values.tolist()]
    return pd.Series(parsed, index=values.index, dtype=object, name=values.name)


def finalise_column(field: Field, values: pd.Series) -> pd.Series:
    """The published dtype of a validated column (counts as Int64, the rest as objects)."""
    cleaned = values.map(lambda v: None if is_invalid(v) or is_missing(v) else v)
    if field.kind == "integer":
        return cleaned.astype("Int64")
    return cleaned.astype(object)


def as_text(value: object) -> str | None:
    """A cell as the partner would read it back in a message."""
    if is_invalid(value):
        value = value.raw
    if is_missing(value):
        return None
    return _parse_string(value)
