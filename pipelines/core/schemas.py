"""Pandera schemas generated from the table definitions.

Published and reference tables hold typed values (``datetime.date`` for dates,
``decimal.Decimal`` for money, nullable integers for counts). The schema generated
here checks exactly what the field registry says: the kind of every value, the
enumerations, the ranges, the required columns and the uniqueness of the key.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pandera.pandas as pa

from pipelines.core.fields import Field
from pipelines.core.tables import Table

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "decimal": (Decimal,),
    "date": (dt.date,),
    "boolean": (bool,),
    "float": (float, int),
    "timestamp": (dt.datetime,),
}


def _is_kind(field: Field) -> pa.Check:
    types = _PY_TYPES[field.kind]
    # A datetime is a date too; only a timestamp column may hold one.
    exclude = () if field.kind == "timestamp" else (dt.datetime,)

    def check(series: pd.Series) -> pd.Series:
        return series.map(lambda v: isinstance(v, types) and not isinstance(v, exclude))

    return pa.Check(check, element_wise=False, ignore_na=True, name=f"is_{field.kind}")


def field_checks(field: Field) -> list[pa.Check]:
    """The value checks of a field: its kind, enumeration and range."""
    checks = [_is_kind(field)]
    if field.enum:
        checks.append(pa.Check.isin(list(field.enum)))
    if field.min_value is not None:
        checks.append(pa.Check.ge(field.min_value))
    if field.max_value is not None:
        checks.append(pa.Check.le(field.max_value))
    return checks


def table_schema(table: Table) -> pa.DataFrameSchema:
    """The Pandera schema of a published table, generated from its fields."""
    return pa.DataFrameSchema(
        {
            f.name: pa.Column(
                checks=field_checks(f),
                nullable=f.name not in table.required,
                description=f.description,
                title=f.name,
            )
            for f in table.columns
        },
        unique=list(table.primary_key) or None,
        strict=True,
        ordered=True,
        name=table.name,
        description=table.description,
    )
