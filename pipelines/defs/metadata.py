"""Metadata the Dagster UI shows: row counts, column schemas and markdown previews."""

from collections.abc import Mapping
from decimal import Decimal

import dagster as dg
import pandas as pd

from pipelines.core.intake.parsing import as_text
from pipelines.core.metadata.tables import Table

PREVIEW_ROWS = 10


def column_schema(table: Table) -> dg.TableSchema:
    """The table's columns with their SQL type and description, for the UI's schema tab."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.sql_type,
                description=c.description,
                constraints=dg.TableColumnConstraints(
                    nullable=c.name not in table.required,
                    unique=table.primary_key == (c.name,),
                ),
            )
            for c in table.columns
        ]
    )


def _cell(value: object) -> str:
    text = as_text(value) or ""
    return text.replace("|", "\\|").replace("\n", " ")[:80]


def markdown_table(frame: pd.DataFrame, limit: int = PREVIEW_ROWS) -> str:
    """A small markdown table (pandas' own needs the optional tabulate package)."""
    if frame.empty:
        return "_no rows_"
    head = frame.head(limit)
    lines = [
        "| " + " | ".join(str(c) for c in head.columns) + " |",
        "|" + "---|" * len(head.columns),
    ]
    lines += [
        "| " + " | ".join(_cell(v) for v in row) + " |" for row in head.itertuples(index=False)
    ]
    if len(frame) > limit:
        lines.append(f"\n_{limit} of {len(frame)} rows_")
    return "\n".join(lines)


def table_value(frame: pd.DataFrame) -> dg.TableMetadataValue:
    """A frame as a table the UI draws in place, every row, each cell as text or number."""

    def cell(value: object) -> str | int | float | bool:
        if isinstance(value, bool | int | float) and not isinstance(value, Decimal):
            return value
        return as_text(value) or ""

    columns = [
        dg.TableColumn(str(c), "int" if pd.api.types.is_integer_dtype(frame[c]) else "string")
        for c in frame.columns
    ]
    records = [
        dg.TableRecord({str(c): cell(v) for c, v in zip(frame.columns, row, strict=True)})
        for row in frame.itertuples(index=False)
    ]
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=columns))


def table_metadata(frame: pd.DataFrame, table: Table) -> Mapping[str, object]:
    return {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "dagster/column_schema": column_schema(table),
        "preview": dg.MetadataValue.md(markdown_table(frame)),
    }


# Dagster shows a markdown value in place on the asset's overview only when it is under
# 1,000 characters; a longer one (the SVG chart) hides behind "[Show Markdown]".
INLINE_MARKDOWN_LIMIT = 1000
BAR_CELLS = 20
