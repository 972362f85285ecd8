"""IO managers: published tables as typed Parquet, ingest state per partner-period.

``TableIOManager`` writes each table asset to ``<assets>/<name>.parquet`` through the
table definitions (typed columns, descriptions, atomic replace). ``StateIOManager``
keeps each partition of the ``submission`` asset in its own file, so one run can
write many partitions and a downstream asset can load all of them at once.
"""

import pickle
from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines.core.publish import read_parquet, write_atomic, write_parquet
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
        path = write_parquet(obj, table, self.paths.assets)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = self._table(context.upstream_output)
        return read_parquet(table, self.paths.assets)


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
