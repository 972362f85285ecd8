"""The IO manager of published tables: typed Parquet under the assets directory.

``TableIOManager`` writes each table asset to ``<assets>/<name>.parquet`` through the
table definitions (typed columns, descriptions, atomic replace). Internal state is not
an IO manager's business: the ingest step keeps it in the state directory itself.
"""

import dagster as dg
import pandas as pd

from pipelines.core.publish import read_parquet, write_parquet
from pipelines.core.tables import Table, published_tables
from pipelines.defs.resources import ClusterixPaths


class TableIOManager(dg.ConfigurableIOManager):
    """Each asset is the published table of the same name, under ``paths.assets``."""

    paths: dg.ResourceDependency[ClusterixPaths]

    def _table(self, context: dg.OutputContext | dg.InputContext) -> Table:
        return published_tables()[context.definition_metadata["table"]]

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        table = self._table(context)
        path = write_parquet(obj, table, self.paths.assets)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = self._table(context.upstream_output)
        return read_parquet(table, self.paths.assets)
