"""Turning spreadsheet cells into typed values, and typed values back into text.

Cells arrive as calamine gives them: ``str``, ``int``/``float``, ``bool``,
``datetime``/``date`` or ``None``, or as a :class:`CellNote` when the reader found
something the value alone would hide (a spreadsheet error, a merged cell). Each is
parsed once into the field's kind. A cell that cannot be parsed becomes an
:class:`Invalid` that remembers what was written and which rule it breaks, so the
Pandera checks can report it and every other rule can skip it.

The promise is that no figure is ever read as a different number than the partner
meant: a value is either exact or refused with a message. So text numbers are only
accepted in forms that read the same in every country (digits, a dot before one or
two decimals); '1.500' or '1,500' are refused, since a European partner means 1500
where an English one means 1.5.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pandas as pd

from pipelines.core.metadata.fields import Alphabet, Field

_INT_TEXT = re.compile(r"^[+-]?\d+$")
# A dot followed by one or two digits cannot be a thousands separator: read exactly.
_DECIMAL_TEXT = re.compile(r"^[+-]?(\d+(\.\d{1,2})?|\.\d{1,2})$")
# Digits with separators that some countries read as thousands and others as decimals.
_GROUPED_TEXT = re.compile(r"^[+-]?[\d.,' \u00a0\u202f\u2009]*\d[\d.,' \u00a0\u202f\u2009]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CENT = Decimal("0.01")
# Money is published as DECIMAL(18,2): larger amounts cannot be stored exactly.
MAX_AMOUNT = Decimal(10) ** 16
# Significant digits a spreadsheet shows of a number: a sum of cents such as
# 2023.5700000000002 is displayed, and meant, as 2023.57.
_SHOWN_DIGITS = 15
# Characters that take no room on screen: never part of an id a partner typed.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class CellNote:
    """What the reader found in a cell beyond its value: why it cannot be read as one.

    ``rule`` names the rule the cell breaks (``error_cell``, ``merged_cell``...),
    ``text`` is what the partner sees there (``#DIV/0!``, the merged range, the
    formula) and ``facts`` what else the rule's message quotes.
    """

    rule: str
    text: str
    facts: tuple[tuple[str, object], ...] = ()

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Invalid:
    """A cell whose content does not fit its column's kind, the rule it breaks and the
    facts that rule's message quotes beyond the column and the value."""

    raw: object
    rule: str = "wrong_type"
    facts: tuple[tuple[str, object], ...] = ()


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


def is_code(field: Field) -> bool:
    """Ids, refs and enumerations: values compared exactly, so normalised when read."""
    return field.enum is not None or field.name.endswith(("_id", "_ref")) or field.name in _CODES


_CODES = frozenset({"country", "back_to_back"})


def clean_text(text: str) -> str:
    """Free text with its surrounding spaces (any Unicode space) removed."""
    return text.translate(_INVISIBLE).strip()


def clean_code(text: str) -> str:
    """An id or enumeration value as compared: NFKC-folded (a no-break or full-width
    space, a full-width letter become their plain forms), invisible characters
    dropped, runs of spaces made one, ends trimmed. 'EV-001\u00a0' is 'EV-001'."""
    folded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", folded).strip()


def _text_number(value: str, pattern: re.Pattern[str]) -> str | Invalid:
    """A text number in a form that reads the same everywhere, or why it is refused."""
    text = clean_code(value)
    if pattern.match(text):
        return text
    if _GROUPED_TEXT.match(text):
        return Invalid(value, "ambiguous_number")
    return Invalid(value)


def _parse_string(value: object) -> object:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        minutes, seconds = divmod(int(value.total_seconds()), 60)
        return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"
    return str(value)


# The cell value calamine gives for a number whose format shows a date or a time, and
# what the partner sees in the cell.
_SHOWN_AS = (
    (dt.datetime, "a date and time"),
    (dt.date, "a date"),
    (dt.time, "a time"),
    (dt.timedelta, "a duration"),
)


def _shown_as(value: object) -> Invalid | None:
    """A number cell formatted as a date or a time: what the partner sees is not the
    number that would be published, so it is refused naming what the cell shows."""
    for kind, shown in _SHOWN_AS:
        if isinstance(value, kind):
            return Invalid(value, "number_format_misleads", (("shown_as", shown),))
    return None


def _parse_integer(value: object) -> object:
    if isinstance(value, bool):
        return Invalid(value)
    if (shown := _shown_as(value)) is not None:
        return shown
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else Invalid(value)
    if isinstance(value, str):
        text = _text_number(value, _INT_TEXT)
        return text if isinstance(text, Invalid) else int(text)
    return Invalid(value)


def _cents(value: float | int) -> Decimal | None:
    """The amount a typed number stands for, when it is a whole number of cents.

    repr() is the shortest text that round-trips the double, so a typed 1000.5 is
    exactly 1000.50. A sum of cents carries binary noise (300.29999999999995): at the
    15 significant digits a spreadsheet shows, it is the cent the partner sees.
    """
    for text in (repr(value), f"{value:.{_SHOWN_DIGITS}g}"):
        amount = _to_cent(text)
        if amount is not None:
            return amount
    return None


def _to_cent(text: str) -> Decimal | None:
    """The amount of a number's text when it is a whole number of cents within range."""
    try:
        amount = Decimal(text)
        if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
            return None
        cents = amount.quantize(CENT)
    except InvalidOperation:
        return None
    return cents if cents == amount else None


def _parse_decimal(value: object) -> object:
    if isinstance(value, bool):
        return Invalid(value)
    if (shown := _shown_as(value)) is not None:
        return shown
    if isinstance(value, int | float):
        amount = _cents(value)
        return Invalid(value) if amount is None else amount
    if isinstance(value, str):
        text = _text_number(value, _DECIMAL_TEXT)
        if isinstance(text, Invalid):
            return text
        amount = _to_cent(text)
        return Invalid(value) if amount is None else amount
    return Invalid(value)


def _parse_date(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else Invalid(value)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = clean_code(value)
        if _ISO_DATE.match(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                return Invalid(value)
    return Invalid(value)


_PARSERS = {
    "string": _parse_string,
    "integer": _parse_integer,
    "decimal": _parse_decimal,
    "date": _parse_date,
}


def parse_value(field: Field, value: object) -> object:
    """One cell typed for its field: the value, ``None`` when empty, or :class:`Invalid`."""
    if isinstance(value, CellNote):
        return Invalid(value, value.rule, value.facts)
    if is_missing(value):
        return None
    parsed = _PARSERS[field.kind](value)
    if isinstance(parsed, str) and field.kind == "string":
        parsed = clean_code(parsed) if is_code(field) else clean_text(parsed)
        if parsed and field.alphabet is not None:
            return _in_alphabet(field.alphabet, parsed)
        return parsed or None
    return parsed


def _in_alphabet(alphabet: Alphabet, text: str) -> str | Invalid:
    """A key written in its alphabet, or refused naming the first character outside it:
    a look-alike (Cyrillic 'Е', the hyphen U+2010) would make two records of one."""
    found = alphabet.first_outside(text)
    if found is None:
        return text
    position, character = found
    facts = (
        ("character", character),
        ("character_name", unicodedata.name(character, f"U+{ord(character):04X}")),
        ("position", position),
        ("alphabet", alphabet.description),
    )
    return Invalid(text, "character_outside_alphabet", facts)


def parse_column(field: Field, values: pd.Series) -> pd.Series:
    """Typed values of one column (object dtype): value, ``None`` or :class:`Invalid`."""
    parsed = [parse_value(field, v) for v in values.tolist()]
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
