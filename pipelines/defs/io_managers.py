"""The IO manager of published tables: typed Parquet, staged per run.

``TableIOManager`` writes each table asset into the run's snapshot folder,
``<assets>/history/<run_id>/<name>.parquet``, through the table definitions (typed
columns, descriptions, the run id, atomic replace). Nothing a reader uses changes
until the ``publication`` asset has verified the whole set and promoted it; a
downstream asset of the same run reads the run's own file, and one whose upstream
did not run reads the published file. Internal state is not an IO manager's
business: the ingest step keeps it in the state directory itself.
"""

import dagster as dg
import pandas as pd

from pipelines.core.metadata.tables import Table, published_tables
from pipelines.core.outputs.manifest import snapshot_dir
from pipelines.core.outputs.parquet import read_parquet_file, write_parquet
from pipelines.core.reference.loader import reference
from pipelines.defs.resources import ClusterixPaths


class TableIOManager(dg.ConfigurableIOManager):
    """Each asset is the published table of the same name, under ``paths.assets``."""

    paths: dg.ResourceDependency[ClusterixPaths]

    def _table(self, context: dg.OutputContext | dg.InputContext) -> Table:
        return published_tables(reference().fact_tables)[context.definition_metadata["table"]]

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        table = self._table(context)
        folder = snapshot_dir(self.paths.assets, context.run_id)
        path = write_parquet(obj, table, folder, run_id=context.run_id)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = self._table(context.upstream_output)
        name = f"{table.name}.parquet"
        staged = snapshot_dir(self.paths.assets, context.step_context.run_id) / name
        return read_parquet_file(table, staged if staged.exists() else self.paths.assets / name)
