"""Where the pipeline reads and writes, as a resource the UI shows and tests can set."""

from pathlib import Path

import dagster as dg

from pipelines.core import config


class ClusterixPaths(dg.ConfigurableResource):
    """The raw drop folder, the assets and the state directories (environment defaults)."""

    raw_dir: str | None = None
    assets_dir: str | None = None
    state_dir: str | None = None

    @property
    def raw(self) -> Path:
        return Path(self.raw_dir).resolve() if self.raw_dir else config.raw_dir()

    @property
    def assets(self) -> Path:
        return Path(self.assets_dir).resolve() if self.assets_dir else config.assets_dir()

    @property
    def state(self) -> Path:
        return Path(self.state_dir).resolve() if self.state_dir else config.state_dir()
