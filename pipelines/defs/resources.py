"""Where the pipeline reads and writes, as a resource the UI shows and tests can set."""

from pathlib import Path

import dagster as dg

from pipelines.core import config
from pipelines.core.storage import local_dir


class ClusterixPaths(dg.ConfigurableResource):
    """The raw drop folder, the assets and the state directories (environment defaults).

    Each may be an ``s3://`` URL; the properties give the local folder a step works in
    (for a URL, the working copy the run's executor pulled and will push).
    """

    raw_dir: str | None = None
    assets_dir: str | None = None
    state_dir: str | None = None

    @property
    def raw(self) -> Path:
        return local_dir(self.raw_dir) if self.raw_dir else config.raw_dir()

    @property
    def assets(self) -> Path:
        return local_dir(self.assets_dir) if self.assets_dir else config.assets_dir()

    @property
    def state(self) -> Path:
        return local_dir(self.state_dir) if self.state_dir else config.state_dir()
