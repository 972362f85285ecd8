"""Real Dagster instances for tests, configured by the shipped dev ``dagster.yaml``."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import yaml

from pipelines.platform.instance import DEV_INSTANCE_CONFIG


@contextlib.contextmanager
def memory_dir() -> Iterator[Path]:
    """A temporary folder on /dev/shm where there is one, for a Dagster home.

    SQLite commits every event, and on a slow disk those commits would be most of a
    test's time.
    """
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(dir=shm if shm.is_dir() else None))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    """A real Dagster instance (SQLite storage) in a temporary folder in memory.

    It is configured by the shipped dev ``dagster.yaml``, so the tests run what
    ``make demo`` runs.
    """
    shipped = yaml.safe_load(DEV_INSTANCE_CONFIG.read_text(encoding="utf-8"))
    with (
        memory_dir() as base,
        dg.instance_for_test(temp_dir=str(base), overrides=shipped) as test_instance,
    ):
        yield test_instance
