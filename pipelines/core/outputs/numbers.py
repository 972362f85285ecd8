"""How a figure is written for people: the one formatter of the report, the feedback
workbooks, the Dagster UI's text and the command line.

Thousands are separated with a comma and the decimal mark is a dot, as in the
project's English-language reporting. Money (``EUR``) and percentages (``%``) are
always written to the cent (``5,086,000.00``, ``5.00``); counts are whole
(``81``), and a count with a fraction keeps two decimals rather than being rounded
away. A value that does not exist is written as :data:`NO_VALUE`, never as 0.
"""

from __future__ import annotations

from decimal import Decimal

NO_VALUE = "n/a"
_TO_THE_CENT = frozenset({"EUR", "%"})


def figure(value: Decimal | int | float | None, unit: str = "") -> str:
    """``value`` in ``unit`` as a person reads it: ``5,086,000.00`` EUR, ``5.00`` %, ``81``."""
    if value is None or value != value:  # None, or a float NaN
        return NO_VALUE
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if unit in _TO_THE_CENT or number != number.to_integral_value():
        return f"{number:,.2f}"
    return f"{number:,.0f}"


def percent(value: Decimal | float | None) -> str:
    """A share such as the % of a target, to one decimal with its sign: ``11.1 %``."""
    if value is None or value != value:
        return NO_VALUE
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return f"{number:,.1f} %"
