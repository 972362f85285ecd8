"""Where the pipeline reads and writes, as a resource the UI shows and tests can set."""

import contextlib
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipelines.platform import settings as config
from pipelines.platform.storage import local_dir
from pipelines.platform.writer_lock import step_guard


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

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["ClusterixPaths"]:
        """A step in a process of its own (the multiprocess executor's) holds the state
        directory's step guard while it works: such a process can outlive a run killed
        with ``kill -9``, and the guard makes the next writer wait for it. Steps in the
        run's own process (and a sensor's evaluation) end with it and need none."""
        with contextlib.ExitStack() as stack:
            if context.run is not None and multiprocessing.parent_process() is not None:
                stack.enter_context(step_guard(self.state, context.run.run_id))
            yield stack.enter_context(super().yield_for_execution(context))


def configured_paths() -> ClusterixPaths:
    """The resource as the code location configures it.

    A directory set in the environment is a ``dg.EnvVar``: resolved when each run starts,
    and shown by its variable's name on the resource's page in the UI. One not set is
    left empty and takes its default (``raw``, ``assets``, ``state``) when a run starts:
    Dagster fails a run whose ``EnvVar`` names an unset variable.
    """

    def from_environment(name: str) -> str | None:
        return dg.EnvVar(name) if os.environ.get(name) else None

    return ClusterixPaths(
        raw_dir=from_environment(config.RAW_DIR_ENV),
        assets_dir=from_environment(config.ASSETS_DIR_ENV),
        state_dir=from_environment(config.STATE_DIR_ENV),
    )
