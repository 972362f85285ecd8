"""Pandera schemas generated from the definitions: one translator from Field to Pandera.

Published and reference tables hold typed values (``datetime.date`` for dates,
``decimal.Decimal`` for money, nullable integers for counts). A record sheet holds the
same values as parsed from the cells, where a cell that did not parse is an
:class:`~pipelines.core.intake.parsing.Invalid`. :func:`field_checks` serves both: its kind
check fails on anything not of the field's kind (so an unparsed cell is a
``wrong_type``) and every other check passes values of another kind, so one bad cell
is reported once. Each check is named after the rule in :mod:`pipelines.core.metadata.rules`
that words its failure.

Checks that need the project's reference data (enumerations kept there, look-ups such
as the country codes) are only generated when it is given (a :class:`ProjectValues`,
which the loaded reference is): the reference tables themselves are validated while it
is being built, so this module cannot ask for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Protocol

import pandas as pd
import pandera.pandas as pa

from pipelines.core.metadata.fields import Field
from pipelines.core.metadata.table_model import Sheet, Table


class ProjectValues(Protocol):
    """What the generated checks read from a project: its span, and by attribute name the
    values a field lists or looks up (``event_type_ids``, ``countries``...)."""

    project_start: dt.date
    project_end: dt.date


RowCheck = Callable[[pd.DataFrame], pd.Series]


def _of_kind(field: Field) -> Callable[[object], bool]:
    types = field.spec.values
    return lambda v: (
        isinstance(v, types)
        # A datetime is a date too, and a bool an int: only their own kinds accept them.
        and not (
            (isinstance(v, dt.datetime) and dt.datetime not in types)
            or (isinstance(v, bool) and bool not in types)
        )
    )


def _check(name: str, field: Field, ok: Callable[[object], bool]) -> pa.Check:
    """An element check that only judges values of the field's kind (others: wrong_type)."""
    of_kind = _of_kind(field)

    def check(series: pd.Series) -> pd.Series:
        return series.map(lambda v: not of_kind(v) or ok(v))

    return pa.Check(check, element_wise=False, ignore_na=True, name=name)


def field_checks(field: Field, ref: ProjectValues | None = None) -> list[pa.Check]:
    """The value checks of a field: its kind, enumeration, range and reference look-up."""
    of_kind = _of_kind(field)
    checks = [
        pa.Check(lambda s: s.map(of_kind), element_wise=False, ignore_na=True, name="wrong_type")
    ]
    allowed = field.allowed(ref)
    if allowed:
        values = frozenset(allowed)
        checks.append(_check("not_in_enumeration", field, lambda v: v in values))
    low, high = field.bounds(ref)
    if low is not None and high is not None:
        checks.append(_check("out_of_range", field, lambda v: low <= v <= high))
    elif low is not None:
        checks.append(_check("negative_value", field, lambda v: v >= low))
    if field.lookup and ref is not None:
        known = frozenset(getattr(ref, field.lookup))
        checks.append(_check(f"unknown_{field.name}", field, lambda v: v in known))
    return checks


def _column(field: Field, required: bool, checks: list[pa.Check]) -> pa.Column:
    return pa.Column(
        checks=checks,
        nullable=not required,
        description=field.description,
        title=field.name,
    )


def table_schema(table: Table, ref: ProjectValues | None = None) -> pa.DataFrameSchema:
    """The Pandera schema of a published table, generated from its fields."""
    return pa.DataFrameSchema(
        {f.name: _column(f, f.name in table.required, field_checks(f, ref)) for f in table.columns},
        unique=list(table.primary_key) or None,
        strict=True,
        ordered=True,
        name=table.name,
        description=table.description,
    )


def sheet_schema(
    sheet: Sheet,
    ref: ProjectValues,
    *,
    column_checks: dict[str, list[pa.Check]] | None = None,
    row_checks: Iterable[tuple[str, RowCheck]] = (),
) -> pa.DataFrameSchema:
    """The Pandera schema of a record sheet as parsed, generated from its fields.

    Sheet columns also must lie inside the project (dates); ``column_checks`` add
    rules particular to one column and ``row_checks`` the rules across columns, each
    named after its rule (``rule:column`` when the rule applies to several columns).
    Context columns (``_file``...) pass through: the schema is not strict.
    """
    extra = column_checks or {}
    start, end = ref.project_start, ref.project_end
    columns = {}
    for f in sheet.columns:
        checks = field_checks(f, ref)
        if f.kind == "date":
            checks.append(_check("date_outside_project", f, lambda d: start <= d <= end))
        columns[f.name] = _column(f, f.name in sheet.required, checks + extra.get(f.name, []))
    return pa.DataFrameSchema(
        columns,
        checks=[pa.Check(fn, name=name) for name, fn in row_checks],
        strict=False,
        coerce=False,
        name=sheet.name,
        description=sheet.description,
    )
