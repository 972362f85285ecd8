"""Reference tables published from the versioned files in ``pipelines/core/reference_data``."""

import dagster as dg
import pandas as pd

from pipelines.core.reference import reference
from pipelines.core.tables import REFERENCE_TABLES, Table
from pipelines.defs.metadata import column_schema, table_metadata


def reference_asset(table: Table) -> dg.AssetsDefinition:
    """One asset per reference table; the file is validated by its Pandera schema at load."""

    @dg.asset(
        name=table.name,
        group_name="reference",
        io_manager_key="table_io",
        description=table.description,
        metadata={"table": table.name, "dagster/column_schema": column_schema(table)},
        kinds={"parquet"},
    )
    def _asset(context: dg.AssetExecutionContext) -> pd.DataFrame:
        frame = reference().tables()[table.name]
        context.add_output_metadata(table_metadata(frame, table))
        return frame

    return _asset


reference_assets = [reference_asset(t) for t in REFERENCE_TABLES]
