"""The pipeline's settings: where it reads and writes, and its limits, read from the
environment into one object, :class:`Settings`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipelines.platform.storage import local_dir

RAW_DIR_ENV = "CLUSTERIX_RAW_DIR"
ASSETS_DIR_ENV = "CLUSTERIX_ASSETS_DIR"
STATE_DIR_ENV = "CLUSTERIX_STATE_DIR"
PROJECT_DIR_ENV = "CLUSTERIX_PROJECT_DIR"
# Its name before projects were folders: refused with a message, never silently ignored.
OLD_REFERENCE_DIR_ENV = "CLUSTERIX_REFERENCE_DIR"
KEEP_SNAPSHOTS_ENV = "CLUSTERIX_KEEP_SNAPSHOTS"
INGEST_CHUNKS_ENV = "CLUSTERIX_INGEST_CHUNKS"
RUN_RETENTION_DAYS_ENV = "CLUSTERIX_RUN_RETENTION_DAYS"
LOCK_TIMEOUT_ENV = "CLUSTERIX_LOCK_TIMEOUT"
LOCK_TTL_ENV = "CLUSTERIX_LOCK_TTL"

DEFAULT_RUN_RETENTION_DAYS = 90
DEFAULT_LOCK_TIMEOUT_SECONDS = 3600.0
DEFAULT_LOCK_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class Settings:
    """Where a run reads and writes, and its limits.

    ``raw``, ``assets`` and ``state`` are locations as configured: a path, or an
    ``s3://bucket/prefix`` URL; ``raw_dir``, ``assets_dir`` and ``state_dir`` are the
    local folders the pipeline works in (for a URL, its working copy: core/storage.py).
    Each limit is read from the environment captured when the object was made, and
    checked when it is first used, so a bad value fails the command that needs it.
    """

    raw: str
    assets: str
    state: str
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment gives (``raw``, ``assets``, ``state`` by default)."""
        env = dict(os.environ if environ is None else environ)
        return cls(
            raw=env.get(RAW_DIR_ENV, "raw"),
            assets=env.get(ASSETS_DIR_ENV, "assets"),
            state=env.get(STATE_DIR_ENV, "state"),
            environ=env,
        )

    def overriding(
        self, raw: str | None = None, assets: str | None = None, state: str | None = None
    ) -> Settings:
        """The same settings with the given locations instead (the ``paths`` resource's)."""
        return replace(
            self, raw=raw or self.raw, assets=assets or self.assets, state=state or self.state
        )

    @property
    def raw_dir(self) -> Path:
        """The partners' drop folder."""
        return local_dir(self.raw)

    @property
    def assets_dir(self) -> Path:
        """The published tables, and all that readers use."""
        return local_dir(self.assets)

    @property
    def state_dir(self) -> Path:
        """What only the pipeline reads: submission states, the archive of every file
        version and anything pickled, apart from the assets BI users see."""
        return local_dir(self.state)

    def _get(self, name: str) -> str:
        return self.environ.get(name, "").strip()

    @property
    def project_dir(self) -> Path | None:
        """The project folder to use instead of the bundled default (CLUSTERIX 2.0).

        Lets a lead partner monitor another project, a coordinator try edited reference
        files before committing them, and the benchmark run a larger, synthetic programme.
        """
        if self.environ.get(OLD_REFERENCE_DIR_ENV) and not self.environ.get(PROJECT_DIR_ENV):
            raise ValueError(
                f"{OLD_REFERENCE_DIR_ENV} is now {PROJECT_DIR_ENV}: a project folder (with"
                " project.yaml, see docs/new-project.md); set that instead"
            )
        configured = self._get(PROJECT_DIR_ENV)
        return Path(configured).resolve() if configured else None

    @property
    def keep_snapshots(self) -> int | None:
        """How many published snapshots to keep under ``assets/history`` (None: all)."""
        configured = self._get(KEEP_SNAPSHOTS_ENV)
        if not configured:
            return None
        keep = int(configured)
        if keep < 1:
            raise ValueError(f"{KEEP_SNAPSHOTS_ENV} must be at least 1, not {configured}")
        return keep

    @property
    def ingest_chunks(self) -> int:
        """How many steps ingest is split into (default 1: a single step).

        It shapes the job's steps, so it is read when the code location loads; a run's
        step processes load it again from the same environment and agree.
        """
        configured = self._get(INGEST_CHUNKS_ENV) or "1"
        chunks = int(configured)
        if chunks < 1:
            raise ValueError(f"{INGEST_CHUNKS_ENV} must be at least 1, not {configured}")
        return chunks

    @property
    def run_retention_days(self) -> int:
        """How old a finished Dagster run must be before pruning may delete it (default
        90; 0: every finished run is old enough). Runs holding what the UI shows are kept
        whatever their age (``pipelines/platform/retention.py``)."""
        configured = self._get(RUN_RETENTION_DAYS_ENV)
        if not configured:
            return DEFAULT_RUN_RETENTION_DAYS
        if not configured.isdigit():
            raise ValueError(
                f"{RUN_RETENTION_DAYS_ENV} must be a whole number of days (0 or more),"
                f" not {configured!r}"
            )
        return int(configured)

    @property
    def lock_timeout(self) -> float:
        """Seconds a run waits for the writer lock (0: fail at once)."""
        configured = self._get(LOCK_TIMEOUT_ENV)
        if not configured:
            return DEFAULT_LOCK_TIMEOUT_SECONDS
        try:
            return max(0.0, float(configured))
        except ValueError as exc:
            raise ValueError(
                f"{LOCK_TIMEOUT_ENV} must be a number of seconds, not {configured!r}"
            ) from exc

    @property
    def lock_ttl(self) -> float:
        """Seconds without a heartbeat after which an S3 lock counts as left by a dead run."""
        configured = self._get(LOCK_TTL_ENV)
        try:
            return max(1.0, float(configured)) if configured else DEFAULT_LOCK_TTL_SECONDS
        except ValueError as exc:
            raise ValueError(
                f"{LOCK_TTL_ENV} must be a number of seconds, not {configured!r}"
            ) from exc


def settings() -> Settings:
    """The settings of the current environment (read afresh at each call)."""
    return Settings.from_environment()
