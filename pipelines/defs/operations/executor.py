"""The code location's executor: Dagster's in-process or multiprocess executor, run under
the state directory's writer lock (and, for directories on S3, between a pull of their
working copies and a push of what the run changed: see core/sync.py).

Every run the sensor, the schedule or the UI launches goes through an executor's
``execute`` in its run worker before any step runs, so holding the lock there covers
all of them, including the step processes of the multiprocess executor. Dagster offers
nothing else that spans a whole run across processes: a resource is set up once per
process (once per step under the multiprocess executor). Only the public
``dagster.Executor`` is subclassed; ``tests/test_dagster_api.py`` holds the Dagster
version this was checked against. (``clusterix run`` executes in process with Dagster's
own executor, and takes the same lock itself.)

The same span makes publication all or nothing: a run that ends without publishing
leaves no snapshot behind (``published_whole_or_not_at_all``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from pipelines.core.outputs.manifest import published_whole_or_not_at_all
from pipelines.platform.settings import Settings, settings
from pipelines.platform.sync import synced


class OneWriterExecutor(dg.Executor):
    """Wraps another executor; holds the writer lock for the whole of its ``execute`` and
    discards the run's snapshot unless the run published it."""

    def __init__(self, inner: dg.Executor):
        self._inner = inner

    @property
    def retries(self) -> Any:
        return self._inner.retries

    @property
    def step_dependency_config(self) -> Any:
        return self._inner.step_dependency_config

    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[dg.DagsterEvent]:
        where = run_settings(plan_context.run_config)
        with synced(
            where,
            command=f"Dagster run worker on {socket.gethostname()}",
            run_id=plan_context.run_id,
            say=plan_context.log.warning,
        ):
            plan_context.log.info(f"Holding the writer lock on {where.state}.")
            with published_whole_or_not_at_all(where.assets_dir, plan_context.run_id):
                yield from self._inner.execute(plan_context, execution_plan)


def run_settings(run_config: Mapping[str, Any]) -> Settings:
    """The locations a run's config gives the ``paths`` resource, else the settings'."""
    given = run_config.get("resources", {}).get("paths", {}).get("config", {})
    return settings().overriding(
        given.get("raw_dir"), given.get("assets_dir"), given.get("state_dir")
    )


_BASE = dg.multi_or_in_process_executor


# Dagster's in_process / multiprocess choice, defaulting to one process: a step per
# process costs seconds each, worth it only for a large ingest split into chunks
# (CLUSTERIX_INGEST_CHUNKS), whose chunks it then runs in parallel.
_DEFAULT = {"multiprocess": {}} if settings().ingest_chunks > 1 else {"in_process": {}}


@dg.executor(
    name="one_writer",
    config_schema=dg.Field(_BASE.config_schema.config_type, default_value=_DEFAULT),
    requirements=_BASE.get_requirements,
)
def one_writer_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """The in-process (default) or multiprocess executor under the state directory's lock."""
    return OneWriterExecutor(_BASE.executor_creation_fn(init_context))
