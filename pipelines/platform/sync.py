"""A run's three directories, held under the writer lock and, for those on S3, pulled
into working copies before the run and pushed back after it.

This is the one place where object storage meets a run: ``clusterix run``, every run
a Dagster executor starts (sensor, schedule, UI) and ``clusterix review`` go through
:func:`synced`, so the core keeps reading and writing local folders.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pipelines.platform import settings as config
from pipelines.platform.storage import is_remote, pull, push
from pipelines.platform.writer_lock import writer_lock

PARTS = ("raw", "assets", "state")


@dataclass(frozen=True)
class Locations:
    """Where a run reads and writes: local folders or ``s3://`` URLs, as configured."""

    raw: str
    assets: str
    state: str

    @classmethod
    def of(cls, overrides: Mapping[str, str | None] | None = None) -> Locations:
        """The environment's locations, with the ``paths`` resource's settings on top."""
        given = overrides or {}
        return cls(
            raw=given.get("raw_dir") or config.raw_location(),
            assets=given.get("assets_dir") or config.assets_location(),
            state=given.get("state_dir") or config.state_location(),
        )

    @classmethod
    def for_run(cls, run_config: Mapping) -> Locations:
        """The locations a Dagster run writes, from its ``paths`` resource config."""
        paths = run_config.get("resources", {}).get("paths", {}).get("config", {})
        return cls.of(paths)


@contextlib.contextmanager
def synced(
    locations: Locations,
    *,
    command: str,
    run_id: str | None = None,
    timeout: float | None = None,
    say: Callable[[str], None] = lambda _message: None,
    parts: tuple[str, ...] = PARTS,
) -> Iterator[None]:
    """Hold the state directory's writer lock; pull the remote ``parts`` first and push
    them back (assets, then state) when the body ends without an exception.

    Assets go before state: the state's "built" marker names the run whose manifest it
    matches, so a push cut between the two makes the next run rebuild rather than
    trust tables that never arrived. A run that raises pushes nothing; S3 keeps the
    last complete push, and the next pull discards the working copy's leftovers.
    """
    if is_remote(locations.state):
        from pipelines.platform.s3_lock import remote_writer_lock  # boto3 only when remote

        lock = remote_writer_lock(
            locations.state, command=command, run_id=run_id, timeout=timeout, say=say
        )
    else:
        lock = writer_lock(
            Path(locations.state), command=command, run_id=run_id, timeout=timeout, say=say
        )
    remote = [part for part in parts if is_remote(getattr(locations, part))]
    with lock as held:
        for part in remote:
            pull(getattr(locations, part))
        yield
        if is_remote(locations.state):
            held.check()  # still ours: a lock taken over means another writer is at work
        for part in ("assets", "state"):
            if part in remote:
                push(getattr(locations, part))
