"""What a workbook sheet and a published table are: named lists of registered fields.

A sheet or a table only names its fields (their meaning lives in
:mod:`pipelines.core.metadata.fields`), its key and which fields may not be empty; the Parquet
schema, the Pandera schemas, the data dictionary and the Dagster column schema are all
generated from these.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from pipelines.core.metadata.fields import Field, field


@dataclass(frozen=True)
class Sheet:
    """A record sheet of the partner workbook (template_version 1)."""

    name: str
    table: str
    ref: str
    columns: tuple[Field, ...]
    required: frozenset[str]
    description: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Field:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Table:
    """A published Parquet table."""

    name: str
    description: str
    columns: tuple[Field, ...]
    primary_key: tuple[str, ...] = ()
    required: frozenset[str] = frozenset()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Field:
        return next(c for c in self.columns if c.name == name)

    def arrow_schema(self) -> pa.Schema:
        """Parquet schema with each column's description, in the table's stable order."""
        return pa.schema(
            [c.to_pyarrow(nullable=c.name not in self.required) for c in self.columns],
            metadata={"description": self.description, "primary_key": ",".join(self.primary_key)},
        )


def fields_named(*names: str, **descriptions: str) -> tuple[Field, ...]:
    return tuple(field(n, descriptions.get(n)) for n in names)
