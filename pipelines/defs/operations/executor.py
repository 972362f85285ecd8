"""The code location's executor: Dagster's in-process or multiprocess executor, run under
the state directory's writer lock (and, for directories on S3, between a pull of their
working copies and a push of what the run changed: see core/sync.py).

Every run the sensor, the schedule or the UI launches goes through an executor's
``execute`` in its run worker, whichever process or machine that is, before any step
runs; holding the lock there covers all of them, and covers the step processes of the
multiprocess executor, which run inside the orchestrating process's lock. (``clusterix
run`` executes in process with Dagster's own executor, and takes the same lock itself.)
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import dagster as dg
from dagster._core.events import DagsterEvent, EngineEventData
from dagster._core.execution.context.system import PlanOrchestrationContext
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.retries import RetryMode
from dagster._core.execution.step_dependency_config import StepDependencyConfig
from dagster._core.executor.base import Executor

from pipelines.platform import settings as config
from pipelines.platform.sync import Locations, synced


class OneWriterExecutor(Executor):
    """Wraps another executor; holds the writer lock for the whole of its ``execute``."""

    def __init__(self, inner: Executor):
        self._inner = inner

    @property
    def retries(self) -> RetryMode:
        return self._inner.retries

    @property
    def step_dependency_config(self) -> StepDependencyConfig:
        return self._inner.step_dependency_config

    def execute(
        self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan
    ) -> Iterator[DagsterEvent]:
        locations = Locations.for_run(dict(plan_context.run_config))
        with synced(
            locations,
            command=f"Dagster run worker on {socket.gethostname()}",
            run_id=plan_context.run_id,
            say=plan_context.log.warning,
        ):
            yield DagsterEvent.engine_event(
                plan_context, f"Holding the writer lock on {locations.state}.", EngineEventData()
            )
            yield from self._inner.execute(plan_context, execution_plan)


_BASE = dg.multi_or_in_process_executor


# Dagster's in_process / multiprocess choice, defaulting to one process: a step per
# process costs seconds each, worth it only for a large ingest split into chunks
# (CLUSTERIX_INGEST_CHUNKS), whose chunks it then runs in parallel.
_DEFAULT = {"multiprocess": {}} if config.ingest_chunks() > 1 else {"in_process": {}}


@dg.executor(
    name="one_writer",
    config_schema=dg.Field(_BASE.config_schema.config_type, default_value=_DEFAULT),
    requirements=_BASE.get_requirements,
)
def one_writer_executor(init_context: dg.InitExecutorContext) -> Executor:
    """The in-process (default) or multiprocess executor under the state directory's lock."""
    return OneWriterExecutor(_BASE.executor_creation_fn(init_context))
