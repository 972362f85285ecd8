"""A partner-period's valid rows as kept in its state: plain columns, not a DataFrame.

Every run loads every partner-period's state, and three steps put all their rows
together. Kept as small DataFrames (one per fact table and partner-period: 27,500 at
100x the sample), unpickling them took about 0.4 ms each and concatenating them 4 s per
step, and each frame carried kilobytes of index and block bookkeeping: most of a 100x
run's memory. As lists of Python values per column they unpickle as fast as the values
themselves, and all partner-periods' rows become one frame per table in one step.

The values are those of the frame ingest validated (Decimals, dates, strings, integers,
missing values), and the column dtypes are kept beside them, so the frame rebuilt from
them, alone or joined with others, equals the one stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class RecordColumns:
    """One fact table's rows of one version: its columns' dtypes and values in order."""

    dtypes: tuple[tuple[str, str], ...]
    values: tuple[list, ...]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> RecordColumns:
        return cls(_dtypes(frame), tuple(frame[name].tolist() for name in frame.columns))

    def __len__(self) -> int:
        return len(self.values[0]) if self.values else 0

    def frame(self) -> pd.DataFrame:
        return joined([self])


def _dtypes(frame: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    return tuple((str(name), str(dtype)) for name, dtype in frame.dtypes.items())


def split(frame: pd.DataFrame, by: str) -> dict[object, RecordColumns]:
    """The frame's rows per value of column ``by`` (first seen first, rows in order).

    What ``groupby(by, sort=False)`` would give as frames, without building a frame per
    group: ingest splits each validated batch by file version, 27,500 groups at 100x.
    """
    dtypes = _dtypes(frame)
    values = [frame[name].tolist() for name in frame.columns]
    rows: dict[object, list[int]] = {}
    for position, key in enumerate(frame[by].tolist()):
        rows.setdefault(key, []).append(position)
    return {
        key: RecordColumns(dtypes, tuple([column[i] for i in kept] for column in values))
        for key, kept in rows.items()
    }


def joined(parts: Sequence[RecordColumns]) -> pd.DataFrame:
    """The rows of at least one part, in order, as one frame.

    Parts of one table hold the same columns in the same order (ingest produces them),
    so the values are put end to end column by column and converted once. Should their
    dtypes ever differ, the frames are concatenated instead, as ``pd.concat`` decides.
    """
    dtypes = parts[0].dtypes
    if any(part.dtypes != dtypes for part in parts):
        return pd.concat([part.frame() for part in parts], ignore_index=True)
    columns = {}
    for index, (name, dtype) in enumerate(dtypes):
        values: list = []
        for part in parts:
            values.extend(part.values[index])
        columns[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(columns, index=pd.RangeIndex(sum(map(len, parts))))
