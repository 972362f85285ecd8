"""IO managers: published tables as typed Parquet, ingest state per partner-period.

``TableIOManager`` writes each table asset into the run's snapshot folder,
``<assets>/history/<run_id>/<name>.parquet``, through the table definitions (typed
columns, descriptions, the run id, atomic replace). Nothing a reader uses changes
until the ``publication`` asset has verified the whole set and promoted it; a
downstream asset of the same run reads the run's own file, and one whose upstream
did not run reads the published file. ``StateIOManager``
keeps each partition of the ``submission`` asset in its own file, so one run can
write many partitions and a downstream asset can load all of them at once.
"""

import pickle
from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines.core.manifest import snapshot_dir
from pipelines.core.publish import read_parquet_file, write_atomic, write_parquet
from pipelines.core.state_store import ASSET_STATE_FORMAT, load_state, save_state
from pipelines.core.tables import Table, published_tables
from pipelines.defs.partitions import split_key
from pipelines.defs.resources import ClusterixPaths


class TableIOManager(dg.ConfigurableIOManager):
    """Each asset is the published table of the same name, under ``paths.assets``."""

    paths: dg.ResourceDependency[ClusterixPaths]

    def _table(self, context: dg.OutputContext | dg.InputContext) -> Table:
        return published_tables()[context.definition_metadata["table"]]

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


class StateIOManager(dg.ConfigurableIOManager):
    """Internal state under ``paths.state``: a file per partner-period, one per other asset."""

    paths: dg.ResourceDependency[ClusterixPaths]

    def _other_path(self, key: dg.AssetKey) -> Path:
        return self.paths.state / ASSET_STATE_FORMAT / f"{'__'.join(key.path)}.pickle"

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        if context.has_asset_partitions:
            for state in obj.values():
                save_state(self.paths.state, state)
            return
        payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        write_atomic(self._other_path(context.asset_key), lambda tmp: tmp.write_bytes(payload))

    def load_input(self, context: dg.InputContext) -> object:
        if context.has_asset_partitions:
            states = {}
            for key in context.asset_partition_keys:
                partner_id, period_id = split_key(key)
                states[key] = load_state(self.paths.state, partner_id, period_id)
            return states
        with self._other_path(context.asset_key).open("rb") as handle:
            return pickle.load(handle)
