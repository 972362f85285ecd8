"""Writing published files: typed Parquet, replaced atomically.

Every file goes through :func:`pipelines.platform.files.write_atomic`, so a reader (or a
crash) never sees half a file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.tables import Table
from pipelines.platform.files import write_atomic

RUN_ID_KEY = b"run_id"


def to_arrow(frame: pd.DataFrame, table: Table) -> pa.Table:
    """Typed Arrow table in the table's column order; money stays Decimal throughout."""
    schema = table.arrow_schema()
    arrays = []
    for f in schema:
        values = frame[f.name] if f.name in frame else pd.Series([None] * len(frame))
        cleaned = [None if is_missing(v) else v for v in values.tolist()]
        arrays.append(pa.array(cleaned, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_parquet(
    frame: pd.DataFrame, table: Table, directory: Path, run_id: str | None = None
) -> Path:
    """Publish ``frame`` as ``<directory>/<table>.parquet``, atomically, zstd-compressed.

    ``run_id`` goes into the file's key-value metadata, so a reader holding several
    files can tell whether they belong to one published set.
    """
    arrow = to_arrow(frame, table)
    if run_id is not None:
        arrow = with_run_id(arrow, run_id)
    return write_atomic(
        directory / f"{table.name}.parquet",
        lambda tmp: pq.write_table(arrow, tmp, compression="zstd"),
    )


def with_run_id(arrow: pa.Table, run_id: str) -> pa.Table:
    """The same table with ``run_id`` in its schema's key-value metadata."""
    metadata = dict(arrow.schema.metadata or {})
    metadata[RUN_ID_KEY] = run_id.encode()
    return arrow.replace_schema_metadata(metadata)


def run_id_of(path: Path) -> str | None:
    """The run that wrote a published Parquet file (None for files written before runs had ids)."""
    metadata = pq.read_schema(path).metadata or {}
    value = metadata.get(RUN_ID_KEY)
    return value.decode() if value is not None else None


def read_parquet(table: Table, directory: Path) -> pd.DataFrame:
    """A published table read back with the pipeline's own types (counts as Int64)."""
    return read_parquet_file(table, directory / f"{table.name}.parquet")


def read_parquet_file(table: Table, path: Path) -> pd.DataFrame:
    """The Parquet file at ``path`` as ``table``'s frame (empty when there is no file)."""
    if not path.exists():
        return pd.DataFrame({c.name: pd.Series([], dtype=c.pandas_dtype) for c in table.columns})
    frame = pq.read_table(path).to_pandas(date_as_object=True, integer_object_nulls=True)
    for column in table.columns:
        if column.kind == "integer":
            frame[column.name] = frame[column.name].astype("Int64")
        elif column.kind in ("string", "decimal", "date"):
            frame[column.name] = (
                frame[column.name].astype(object).where(frame[column.name].notna(), None)
            )
    return frame
