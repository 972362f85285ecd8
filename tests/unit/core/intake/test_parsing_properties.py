"""Property tests of the cell parser: no typed or text form of an amount, a count or a
date is ever read as a different value. Each is read exactly or refused with a rule
that has a message for the partner.

The forms are those spreadsheets and people produce: numbers as the spreadsheet
stores them (with the binary noise of its arithmetic), and text written with the
grouping and decimal conventions of several countries.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.core.intake.parsing import Invalid, parse_value
from pipelines.core.metadata.fields import FIELDS
from pipelines.core.metadata.rules import RULES

AMOUNT = FIELDS["sf_influenced_eur"]
COUNT = FIELDS["participants"]
DATE = FIELDS["start_date"]
SETTINGS = settings(max_examples=400, derandomize=True, deadline=None)

# (thousands separator, decimal mark) as written in different countries
CONVENTIONS = [
    (",", "."),
    (".", ","),
    (" ", ","),
    ("\u00a0", ","),
    ("'", "."),
    ("", "."),
    ("", ","),
]

cents = st.integers(min_value=-(10**13), max_value=10**13)


def _refused(value: object) -> bool:
    return isinstance(value, Invalid) and value.rule in RULES


def _grouped(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(groups)


def _written(number: int, decimals: int, thousands: str, mark: str) -> str:
    """``number`` units of 10**-decimals as a person in that country would type it."""
    sign = "-" if number < 0 else ""
    whole, fraction = divmod(abs(number), 10**decimals)
    text = sign + _grouped(str(whole), thousands)
    return text + (mark + str(fraction).zfill(decimals) if decimals else "")


@SETTINGS
@given(cents)
def test_a_typed_amount_is_read_to_the_cent(n):
    amount = Decimal(n).scaleb(-2)
    assert parse_value(AMOUNT, float(amount)) == amount


def _shown(x: float) -> set[Decimal]:
    """The numbers a typed value stands for: exactly, or as a spreadsheet displays it."""
    return {Decimal(repr(x)), Decimal(f"{x:.15g}")}


@SETTINGS
@given(cents, st.floats(min_value=-1e-9, max_value=1e-9))
def test_a_typed_amount_with_arithmetic_noise_is_that_amount_or_refused(n, noise):
    stored = float(Decimal(n).scaleb(-2)) * (1 + noise)
    read = parse_value(AMOUNT, stored)
    assert _refused(read) or read in _shown(stored)


@SETTINGS
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_typed_number_is_its_own_amount_or_refused(x):
    read = parse_value(AMOUNT, x)
    if read is None:  # NaN is how an empty numeric cell reaches a frame
        assert x != x
        return
    assert _refused(read) or read in _shown(x)


@SETTINGS
@given(cents, st.sampled_from([0, 1, 2, 3]), st.sampled_from(CONVENTIONS))
def test_a_text_amount_is_exact_or_refused(n, decimals, convention):
    text = _written(n, decimals, *convention)
    meant = Decimal(n).scaleb(-decimals)
    read = parse_value(AMOUNT, text)
    assert _refused(read) or read == meant, (text, read)


@SETTINGS
@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(CONVENTIONS))
def test_a_text_count_is_exact_or_refused(n, convention):
    text = _written(n, 0, *convention)
    read = parse_value(COUNT, text)
    assert _refused(read) or read == n, (text, read)


@SETTINGS
@given(st.integers(min_value=0, max_value=10**9), st.floats(min_value=-0.5, max_value=0.5))
def test_a_typed_count_is_exact_or_refused(n, fraction):
    assert parse_value(COUNT, n) == n
    read = parse_value(COUNT, n + fraction)
    assert _refused(read) or read == n + fraction


dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31))
DATE_FORMATS = ["%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d %b %Y", "%Y%m%d"]


@SETTINGS
@given(dates, st.sampled_from(DATE_FORMATS))
def test_a_date_is_exact_or_refused(day, fmt):
    assert parse_value(DATE, day) == day
    assert parse_value(DATE, dt.datetime.combine(day, dt.time())) == day
    assert parse_value(DATE, day.isoformat()) == day
    assert _refused(parse_value(DATE, day.strftime(fmt)))
    assert _refused(parse_value(DATE, dt.datetime.combine(day, dt.time(9, 30))))


@SETTINGS
@given(st.one_of(st.integers(), st.floats(), st.text(max_size=12)))
def test_a_number_or_stray_text_in_a_date_column_is_never_a_date_by_accident(value):
    read = parse_value(DATE, value)
    if read is not None and not _refused(read):
        assert isinstance(value, str) and read.isoformat() == value.strip()
