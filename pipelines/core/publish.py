"""Writing published files: typed Parquet, replaced atomically.

A file under the assets directory is always either the previous complete version or
the new complete version: every write goes to a temporary name in the same folder
and is renamed into place, so a reader (or a crash) never sees half a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.core.archive import temp_prefix
from pipelines.core.parsing import is_missing
from pipelines.core.tables import Table


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it into place on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp makes owner-only files; published files are for BI users too.
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(target: Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(tmp)`` and move the result to ``target`` only if it succeeded."""
    with atomic_path(target) as tmp:
        write(tmp)
    return target


def to_arrow(frame: pd.DataFrame, table: Table) -> pa.Table:
    """Typed Arrow table in the table's column order; money stays Decimal throughout."""
    schema = table.arrow_schema()
    arrays = []
    for f in schema:
        values = frame[f.name] if f.name in frame else pd.Series([None] * len(frame))
        cleaned = [None if is_missing(v) else v for v in values.tolist()]
        arrays.append(pa.array(cleaned, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_parquet(frame: pd.DataFrame, table: Table, directory: Path) -> Path:
    """Publish ``frame`` as ``<directory>/<table>.parquet``, atomically, zstd-compressed."""
    arrow = to_arrow(frame, table)
    return write_atomic(
        directory / f"{table.name}.parquet",
        lambda tmp: pq.write_table(arrow, tmp, compression="zstd"),
    )


def read_parquet(table: Table, directory: Path) -> pd.DataFrame:
    """A published table read back with the pipeline's own types (counts as Int64)."""
    path = directory / f"{table.name}.parquet"
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
