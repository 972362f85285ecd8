"""Published files are replaced atomically: a failed write leaves the old file whole."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.core.metadata.tables import PERIODS
from pipelines.core.outputs.parquet import read_parquet, write_parquet
from pipelines.core.reference.loader import reference


def test_a_write_that_fails_midway_leaves_the_previous_file_intact(tmp_path):
    good = reference().periods
    path = write_parquet(good, PERIODS, tmp_path)
    before = path.read_bytes()

    broken = good.copy()
    broken.loc[5, "start_date"] = "not a date"  # fails while the Arrow table is built
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, TypeError)):
        write_parquet(broken, PERIODS, tmp_path)

    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["periods.parquet"], "no temporary file left"


def test_a_write_interrupted_inside_the_parquet_writer_leaves_the_previous_file(
    tmp_path, monkeypatch
):
    path = write_parquet(reference().periods, PERIODS, tmp_path)
    before = path.read_bytes()

    def crash(table, where, **kwargs):
        with open(where, "wb") as handle:
            handle.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(OSError, match="disk full"):
        write_parquet(reference().periods, PERIODS, tmp_path)
    assert path.read_bytes() == before
    assert len(list(tmp_path.iterdir())) == 1


def test_round_trip_keeps_types(tmp_path):
    write_parquet(reference().periods, PERIODS, tmp_path)
    back = read_parquet(PERIODS, tmp_path)
    assert back.loc[0, "start_date"] == dt.date(2016, 4, 1)
    schema = pq.read_schema(tmp_path / "periods.parquet")
    assert schema.field("deadline").type == pa.date32()
    assert schema.field("deadline").metadata[b"description"].startswith(b"Last day")
    assert (
        pq.ParquetFile(tmp_path / "periods.parquet").metadata.row_group(0).column(0).compression
        == "ZSTD"
    )
    pd.testing.assert_series_equal(
        back["period_id"], reference().periods["period_id"].astype(object), check_names=False
    )
