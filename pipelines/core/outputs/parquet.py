"""Writing published files: typed Parquet, replaced atomically.

A file under the assets directory is always either the previous complete version or
the new complete version: every write goes to a temporary name in the same folder
and is renamed into place, so a reader (or a crash) never sees half a file. A write
that fails raises :class:`PublishError` naming the file and the cause in one line, so
a full disk reads as such rather than as a stack of framework frames.
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

from pipelines.core.intake.parsing import is_missing
from pipelines.core.metadata.tables import Table
from pipelines.core.state.archive import temp_prefix

RUN_ID_KEY = b"run_id"

# Called with the target of every atomic write just before it is renamed into place.
# Crash tests set it to fail at the n-th write of a real run; nothing else does.
fault_hook: Callable[[Path], None] | None = None


class PublishError(OSError):
    """A published file could not be written; the message names it and the cause."""


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it into place on success."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise PublishError(f"could not write {target}: {_cause(exc)}") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp makes owner-only files; published files are for BI users too.
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        if fault_hook is not None:
            fault_hook(target)
        os.replace(tmp_path, target)
    except PublishError:
        raise
    except OSError as exc:
        raise PublishError(f"could not write {target}: {_cause(exc)}") from exc
    finally:
        tmp_path.unlink(missing_ok=True)


def _cause(exc: OSError) -> str:
    """The operating system's reason, without the repeated file name."""
    return exc.strerror or str(exc) or type(exc).__name__


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
