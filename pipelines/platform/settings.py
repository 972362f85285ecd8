"""Where the pipeline reads and writes, taken from the environment in one place."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.platform.storage import local_dir

RAW_DIR_ENV = "CLUSTERIX_RAW_DIR"
ASSETS_DIR_ENV = "CLUSTERIX_ASSETS_DIR"
REFERENCE_DIR_ENV = "CLUSTERIX_REFERENCE_DIR"
STATE_DIR_ENV = "CLUSTERIX_STATE_DIR"
KEEP_SNAPSHOTS_ENV = "CLUSTERIX_KEEP_SNAPSHOTS"


def raw_location() -> str:
    """The partners' drop folder as configured: a path, or an ``s3://bucket/prefix`` URL."""
    return os.environ.get(RAW_DIR_ENV, "raw")


def assets_location() -> str:
    """The published tables as configured: a path, or an ``s3://bucket/prefix`` URL."""
    return os.environ.get(ASSETS_DIR_ENV, "assets")


def state_location() -> str:
    """The state directory as configured: a path, or an ``s3://bucket/prefix`` URL."""
    return os.environ.get(STATE_DIR_ENV, "state")


# The *_dir functions give the local folder the pipeline works in: the directory
# itself, or for an s3:// URL its working copy (see core/storage.py).


def raw_dir() -> Path:
    """The partners' drop folder (``raw/`` unless ``CLUSTERIX_RAW_DIR`` says otherwise)."""
    return local_dir(raw_location())


def assets_dir() -> Path:
    """The published tables (``assets/`` unless ``CLUSTERIX_ASSETS_DIR`` says otherwise)."""
    return local_dir(assets_location())


def state_dir() -> Path:
    """What only the pipeline reads (``state/`` unless ``CLUSTERIX_STATE_DIR`` says otherwise).

    Submission states, the archive of every file version and anything pickled live
    here, outside the assets directory, so that BI users see only what they use.
    """
    return local_dir(state_location())


def reference_dir() -> Path | None:
    """Reference data to use instead of the bundled files (``CLUSTERIX_REFERENCE_DIR``).

    Lets a coordinator try edited reference files before committing them, and lets the
    benchmark run the pipeline for a larger, synthetic programme.
    """
    configured = os.environ.get(REFERENCE_DIR_ENV)
    return Path(configured).resolve() if configured else None


def keep_snapshots() -> int | None:
    """How many published snapshots to keep under ``assets/history`` (None: all of them).

    Snapshots are small (the tables compress to a few hundred kB), so the default keeps
    every one; ``CLUSTERIX_KEEP_SNAPSHOTS=N`` keeps the N newest.
    """
    configured = os.environ.get(KEEP_SNAPSHOTS_ENV, "").strip()
    if not configured:
        return None
    keep = int(configured)
    if keep < 1:
        raise ValueError(f"{KEEP_SNAPSHOTS_ENV} must be at least 1, not {configured}")
    return keep


INGEST_CHUNKS_ENV = "CLUSTERIX_INGEST_CHUNKS"


def ingest_chunks() -> int:
    """How many steps ingest is split into (``CLUSTERIX_INGEST_CHUNKS``, default 1).

    Read when the code location loads, since it shapes the job's steps; the run's step
    processes (or pods) load it again from the same environment and agree. One chunk is
    a single step, cheapest on one machine; more let the multiprocess executor read the
    partners' workbooks in parallel processes.
    """
    configured = os.environ.get(INGEST_CHUNKS_ENV, "").strip() or "1"
    chunks = int(configured)
    if chunks < 1:
        raise ValueError(f"{INGEST_CHUNKS_ENV} must be at least 1, not {configured}")
    return chunks


RUN_RETENTION_DAYS_ENV = "CLUSTERIX_RUN_RETENTION_DAYS"
DEFAULT_RUN_RETENTION_DAYS = 90


def run_retention_days() -> int:
    """How old a finished Dagster run must be before pruning may delete it
    (``CLUSTERIX_RUN_RETENTION_DAYS``, default 90, as the instance's tick retention).

    Read by ``clusterix prune-runs`` and by the weekly pruning run, so that one setting
    governs both. 0 makes every finished run old enough; runs holding what the UI shows
    are kept whatever their age (``pipelines/platform/retention.py``).
    """
    configured = os.environ.get(RUN_RETENTION_DAYS_ENV, "").strip()
    if not configured:
        return DEFAULT_RUN_RETENTION_DAYS
    if not configured.isdigit():
        raise ValueError(
            f"{RUN_RETENTION_DAYS_ENV} must be a whole number of days (0 or more),"
            f" not {configured!r}"
        )
    return int(configured)
