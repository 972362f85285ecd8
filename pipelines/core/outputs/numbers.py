"""How a figure is written for people: the one formatter of the report, the feedback
workbooks, the Dagster UI's text and the command line.

Thousands are separated with a comma and the decimal mark is a dot, as in the
project's English-language reporting. Money (a unit that is an ISO 4217 currency code,
``EUR``) and percentages (``%``) are always written to the cent (``5,086,000.00``,
``5.00``); counts are whole (``81``), and a count with a fraction keeps two decimals
rather than being rounded away. A value that does not exist is written as
:data:`NO_VALUE`, never as 0.
"""

from __future__ import annotations

import re
from decimal import Decimal

NO_VALUE = "n/a"
_CURRENCY = re.compile(r"[A-Z]{3}")


def is_money(unit: str) -> bool:
    """Whether a unit is a currency (an ISO 4217 code such as EUR): amounts to the cent."""
    return _CURRENCY.fullmatch(unit) is not None


def figure(value: Decimal | int | float | None, unit: str = "") -> str:
    """``value`` in ``unit`` as a person reads it: ``5,086,000.00`` EUR, ``5.00`` %, ``81``."""
    if value is None or value != value:  # None, or a float NaN
        return NO_VALUE
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if unit == "%" or is_money(unit) or number != number.to_integral_value():
        return f"{number:,.2f}"
    return f"{number:,.0f}"


def percent(value: Decimal | float | None) -> str:
    """A share such as the % of a target, to one decimal with its sign: ``11.1 %``."""
    if value is None or value != value:
        return NO_VALUE
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return f"{number:,.1f} %"


def with_unit(value: Decimal | None, unit: str) -> str:
    """A figure with its unit, as a person writes it: ``EUR 5,086,000.00``, ``81 events``,
    ``1 event``, ``5.00 %`` (a unit is written in the plural, as indicators.csv gives it)."""
    if value is None:
        return "no value yet"
    if unit == "%":
        return f"{figure(value, unit)} %"
    if is_money(unit):
        return f"{unit} {figure(value, unit)}"
    return f"{figure(value, unit)} {_singular(unit) if value == 1 else unit}"


def _singular(unit: str) -> str:
    """``events`` -> ``event``, ``activities`` -> ``activity``; other units as they are."""
    if unit.endswith("ies"):
        return unit[:-3] + "y"
    if unit.endswith("s") and not unit.endswith("ss"):
        return unit[:-1]
    return unit
