"""The closed set of computations an indicator may declare in ``indicators.csv``.

An indicator names one computation and fills the parameters it needs; nothing is
ever inferred from an indicator's id. :func:`check_definition` is run on every row
when a project is loaded, so a row that names an unknown computation, misses a
parameter or points at a sheet, column or value that does not exist is refused then,
with the row and what may be written, not when a run is half done.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.fields import Field
from pipelines.core.metadata.reference_tables import INDICATORS, POLICY_INSTRUMENTS
from pipelines.core.metadata.table_model import Table

_COLUMNS = INDICATORS.column_names
PARAMETERS = tuple(_COLUMNS[_COLUMNS.index("computation") + 1 : _COLUMNS.index("description")])
"""The parameter columns of indicators.csv, as its table declares them (``event_type``
to ``last_year``): each computation takes some of them."""
SUM_OF_CHILDREN = "sum_of_children"


@dataclass(frozen=True)
class Computation:
    """A computation's name, the parameters it needs and may take, and its meaning."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    meaning: str


COMPUTATIONS: dict[str, Computation] = {
    c.name: c
    for c in (
        Computation(
            "count_events",
            ("event_type",),
            (),
            "counted events of one event type (a consortium-level event once)",
        ),
        Computation(
            "count_records",
            ("sheet",),
            ("filter", "breakdown"),
            "records of a sheet, optionally those matching a filter, broken down by partner"
            " and by the breakdown column",
        ),
        Computation(
            "count_distinct",
            ("sheet", "column"),
            ("filter",),
            "distinct values of a column (each value counted for the first partner, in"
            " partner order, that reports it)",
        ),
        Computation("sum", ("sheet", "column"), ("filter",), "sum of a number or amount column"),
        Computation(
            "count_instruments_with_records",
            ("sheet",),
            ("filter", "instrument_filter"),
            "policy instruments (optionally those matching instrument_filter) with at least"
            " one record of the sheet",
        ),
        Computation(
            "mean_change",
            ("sheet", "column", "base_year", "last_year"),
            (),
            "mean over partners' regions of the % change of a yearly figure from base_year"
            " to the latest year <= last_year reported (regions without base_year left out)",
        ),
        Computation(
            SUM_OF_CHILDREN,
            (),
            (),
            "the indicators whose parent_indicator_id is this one, added up",
        ),
    )
}


@dataclass(frozen=True)
class Condition:
    """``column = value`` on a sheet's or an instrument's column (a filter)."""

    column: str
    text: str


def parse_condition(text: str) -> Condition | None:
    """``status = implemented`` as a Condition (None if it is not of that form)."""
    column, sep, value = text.partition("=")
    if not sep or not column.strip() or not value.strip():
        return None
    return Condition(column.strip(), value.strip())


def condition_value(condition: Condition, column: Field) -> object:
    """The condition's value typed as the column's values are (``true`` -> True)."""
    return column.spec.from_text(condition.text)


def _check_condition(
    text: str, key: str, table: Table, known: Mapping[str, Collection[str]]
) -> list[str]:
    condition = parse_condition(text)
    if condition is None:
        return [f"'{key}' is written 'column = value', e.g. 'status = implemented', not {text!r}"]
    if condition.column not in table.column_names:
        return [
            f"'{key}' names column {condition.column!r}, which {table.name} does not have;"
            f" it has {', '.join(table.column_names)}"
        ]
    column = table.column(condition.column)
    try:
        condition_value(condition, column)
    except (TypeError, ValueError):
        return [f"'{key}': {condition.text!r} is not a value of {column.name} ({column.hint})"]
    allowed = known.get(column.name)
    if allowed is not None and condition.text not in allowed:
        return [f"'{key}': {condition.text!r} is not one of {', '.join(allowed)}"]
    return []


def _known_values(
    event_types: Collection[str], tables: Mapping[str, Table]
) -> dict[str, Collection[str]]:
    """Columns whose values are listed: their fields' own lists, the project's event types."""
    listed: dict[str, Collection[str]] = {"event_type": tuple(event_types)}
    for table in (*tables.values(), POLICY_INSTRUMENTS):
        for column in table.columns:
            if isinstance(column.enum, tuple) and column.name not in listed:
                listed[column.name] = column.enum
    return listed


def _check_parameters(
    row: Mapping[str, object],
    computation: Computation,
    event_types: Collection[str],
    tables: Mapping[str, Table],
) -> list[str]:
    """What is wrong with the parameters a row gives its computation."""
    problems = []
    given = {p for p in PARAMETERS if not is_missing(row.get(p))}
    for missing in (p for p in computation.required if p not in given):
        problems.append(f"'{missing}' is required by {computation.name}")
    allowed = set(computation.required) | set(computation.optional)
    for extra in sorted(given - allowed):
        problems.append(
            f"'{extra}' means nothing to {computation.name}; leave it empty"
            f" ({computation.name} takes {', '.join(sorted(allowed)) or 'no parameter'})"
        )
    if problems:
        return problems
    known = _known_values(event_types, tables)
    if "event_type" in given and row["event_type"] not in event_types:
        problems.append(
            f"event_type {row['event_type']!r} is not in event_types.csv ({', '.join(event_types)})"
        )
    if "sheet" not in given:
        return problems
    sheet = tables.get(str(row["sheet"]))
    if sheet is None:
        return [*problems, f"sheet {row['sheet']!r} is not one of {', '.join(tables)}"]
    if "column" in given and row["column"] not in sheet.column_names:
        problems.append(
            f"column {row['column']!r} is not in {sheet.name};"
            f" it has {', '.join(sheet.column_names)}"
        )
    summed = sheet.column(str(row["column"])) if row.get("column") in sheet.column_names else None
    if computation.name == "sum" and summed and summed.kind not in ("integer", "decimal"):
        problems.append(f"column {row['column']!r} holds no numbers to add up")
    listed = [c for c in sheet.column_names if c in known]
    if "breakdown" in given and row["breakdown"] not in listed:
        problems.append(
            f"breakdown {row['breakdown']!r} is not a column with listed values"
            f" of {sheet.name} ({', '.join(listed)})"
        )
    if "filter" in given:
        problems += _check_condition(str(row["filter"]), "filter", sheet, known)
    if "instrument_filter" in given:
        problems += _check_condition(
            str(row["instrument_filter"]), "instrument_filter", POLICY_INSTRUMENTS, known
        )
    if computation.name == "count_instruments_with_records" and (
        "policy_instrument_id" not in sheet.column_names
    ):
        problems.append(f"{sheet.name} has no policy_instrument_id column")
    if "base_year" in given and "last_year" in given and row["base_year"] >= row["last_year"]:
        problems.append("base_year must be before last_year")
    return problems


def check_definition(
    row: Mapping[str, object],
    has_children: bool,
    event_types: Collection[str],
    tables: Mapping[str, Table],
) -> list[str]:
    """Every problem with one indicators.csv row, in words saying what to write; ``tables``
    are the project's fact tables by name (the ``sheet`` a row may count or sum)."""
    name = row.get("computation")
    computation = COMPUTATIONS.get(str(name))
    if computation is None:
        return [f"'computation' {name!r} is not one of {', '.join(COMPUTATIONS)}"]
    if has_children and computation.name != SUM_OF_CHILDREN:
        return [f"other indicators add up into it, so its computation is {SUM_OF_CHILDREN}"]
    if not has_children and computation.name == SUM_OF_CHILDREN:
        return [f"{SUM_OF_CHILDREN} needs indicators naming it as parent_indicator_id; none do"]
    return _check_parameters(row, computation, event_types, tables)
