"""Run retention that never changes what the Dagster UI shows.

A finished run older than the cutoff is deleted only if it holds none of the events the
UI shows as latest (materialisations, observations, check evaluations, failed attempts,
per asset and per partition); unfinished runs are never touched. Why not simply delete
old runs, and how the set to keep is read cheaply: docs/design/run-retention.md.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

FINISHED = (
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
)
UNFINISHED = tuple(status for status in dg.DagsterRunStatus if status not in FINISHED)
FAILED = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
# Storage ids resolved to runs per query: well inside SQLite's and Postgres's limits on
# bound parameters, and Dagster's own chunk size for materialisation queries.
CHUNK = 1000

Fetch = Callable[..., dg.EventRecordsResult]
# ``DagsterInstance.event_log_storage`` and the records of its ``get_asset_records``:
# Dagster exports no name for their types.
EventLogStorage = Any
AssetRecord = Any


@dataclass(frozen=True)
class PruneReport:
    """What a prune did (or, in a dry run, would do)."""

    cutoff: datetime
    examined: int
    kept: int
    deleted: tuple[str, ...]
    unfinished: int
    dry_run: bool

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"Runs created before {self.cutoff:%Y-%m-%d %H:%M} UTC: {self.examined} finished"
            f" examined, {verb} {len(self.deleted)}, kept {self.kept} that hold the latest"
            f" materialisation, observation, check evaluation or failure of an asset or"
            f" partition; {self.unfinished} not finished, left alone."
        )


def prune_runs(
    instance: dg.DagsterInstance,
    older_than: timedelta,
    check_keys: Iterable[dg.AssetCheckKey],
    now: datetime | None = None,
    dry_run: bool = False,
    spare: Collection[str] = (),
) -> PruneReport:
    """Delete the finished runs created before ``now - older_than`` that hold nothing the
    UI shows as latest; ``spare`` names runs never to delete (the pruning run itself).

    ``check_keys`` are the asset checks of the code location: Dagster's storage cannot
    list them. The runs to keep are read after the candidates are listed, so a run that
    finishes meanwhile can only supersede events, never make a deletion unsafe. A storage
    that cannot answer one of the queries raises before anything is deleted.
    """
    cutoff = (now or datetime.now(UTC)).astimezone(UTC) - older_than
    candidates = [
        run.run_id
        for run in instance.get_runs(dg.RunsFilter(statuses=list(FINISHED), created_before=cutoff))
    ]
    unfinished = instance.get_runs_count(
        dg.RunsFilter(statuses=list(UNFINISHED), created_before=cutoff)
    )
    holders = runs_holding_latest_events(instance, check_keys)
    doomed = tuple(r for r in candidates if r not in holders and r not in spare)
    if not dry_run:
        for run_id in doomed:
            delete_run(instance, run_id)
    kept = sum(1 for r in candidates if r in holders)
    return PruneReport(cutoff, len(candidates), kept, doomed, unfinished, dry_run)


def runs_holding_latest_events(
    instance: dg.DagsterInstance, check_keys: Iterable[dg.AssetCheckKey]
) -> set[str]:
    """The ids of the runs that hold an event the UI shows as the latest of something."""
    storage = instance.event_log_storage
    records = storage.get_asset_records()
    holders: set[str] = set()
    for record in records:
        holders |= _asset_holders(storage, record)
    holders |= _failed_last_runs(instance, records)
    holders |= _check_holders(storage, list(check_keys))
    holders.discard("")  # events reported outside any run
    return holders


def _asset_holders(storage: EventLogStorage, record: AssetRecord) -> set[str]:
    """Runs with the asset's latest materialisation or observation, and, for a partitioned
    asset, with each partition's latest materialisation, observation or failure."""
    key = record.asset_entry.asset_key
    latest = record.asset_entry.last_materialization_record
    observed = storage.fetch_observations(key, limit=1).records
    holders = {r.run_id for r in [latest, *observed] if r is not None}
    if latest is None or latest.partition_key is not None:
        holders |= _partition_holders(storage, key)
    return holders


def _partition_holders(storage: EventLogStorage, key: dg.AssetKey) -> set[str]:
    """Per partition: the latest materialisation and observation, the latest failure to
    materialise when no materialisation followed it, and an attempt (planned, never
    materialised: in progress or failed) that is the partition's latest."""
    latest_by_partition = storage.get_latest_storage_id_by_partition
    materialised = latest_by_partition(key, dg.DagsterEventType.ASSET_MATERIALIZATION)
    observed = latest_by_partition(key, dg.DagsterEventType.ASSET_OBSERVATION)
    failed = {
        partition: storage_id
        for partition, storage_id in latest_by_partition(
            key, dg.DagsterEventType.ASSET_FAILED_TO_MATERIALIZE
        ).items()
        if storage_id > materialised.get(partition, 0)
    }
    attempts = storage.get_latest_asset_partition_materialization_attempts_without_materializations(
        key
    )
    return (
        _runs_of(storage.fetch_materializations, key, materialised.values())
        | _runs_of(storage.fetch_observations, key, observed.values())
        | _runs_of(storage.fetch_failed_materializations, key, failed.values())
        | {run_id for run_id, _ in attempts.values()}
    )


def _runs_of(fetch: Fetch, key: dg.AssetKey, storage_ids: Iterable[int]) -> set[str]:
    """The runs of the given events of one asset, a chunk of storage ids per query."""
    ids = sorted(storage_ids)
    runs: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found = fetch(dg.AssetRecordsFilter(asset_key=key, storage_ids=chunk), limit=len(chunk))
        runs.update(record.run_id for record in found.records)
    return runs


def _failed_last_runs(instance: dg.DagsterInstance, records: Iterable[AssetRecord]) -> set[str]:
    """Each asset's last run (the last that planned or materialised it) when it failed or
    was canceled: the UI shows that failure on the asset until a later run."""
    last_runs = {r.asset_entry.last_run_id for r in records if r.asset_entry.last_run_id}
    if not last_runs:
        return set()
    failed = instance.get_runs(dg.RunsFilter(run_ids=list(last_runs), statuses=list(FAILED)))
    return {run.run_id for run in failed}


def _check_holders(storage: EventLogStorage, check_keys: list[dg.AssetCheckKey]) -> set[str]:
    """Runs with the latest execution (planned or evaluated) of each check, per partition
    for partition-scoped checks, and with each check's latest execution overall."""
    if not check_keys:
        return set()
    per_partition = storage.get_asset_check_partition_info(check_keys)
    overall = storage.get_latest_asset_check_execution_by_key(check_keys)
    return (
        {info.latest_planned_run_id for info in per_partition}
        | {execution.run_id for execution in overall.values()}
        | {run for key in check_keys if (run := _latest_evaluated(storage, key))}
    )


_EVALUATED = {"SUCCEEDED", "FAILED"}


def _latest_evaluated(storage: EventLogStorage, key: dg.AssetCheckKey) -> str | None:
    """The run with the check's latest evaluation. It differs from the latest execution
    when a later run planned the check but ended before evaluating it (a failed run), and
    the UI still shows the evaluation before."""
    cursor = None
    while True:
        page = storage.get_asset_check_execution_history(key, limit=50, cursor=cursor)
        for execution in page:
            if execution.status.value in _EVALUATED:
                return execution.run_id
        if len(page) < 50:
            return None
        cursor = page[-1].id


def delete_run(instance: dg.DagsterInstance, run_id: str) -> None:
    """Delete a run, its events and its captured step logs, and, with Dagster's SQLite
    storage (a database file per run), the run's own event database, which
    ``delete_run`` empties but leaves on disk (the space would never come back)."""
    instance.delete_run(run_id)
    instance.compute_log_manager.delete_logs(prefix=[run_id])
    path_for_shard = getattr(instance.event_log_storage, "path_for_shard", None)
    if path_for_shard is not None:
        shard = path_for_shard(run_id)
        for path in (shard, f"{shard}-wal", f"{shard}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
