"""Where the pipeline reads and writes, taken from the environment in one place."""

from __future__ import annotations

import os
from pathlib import Path

RAW_DIR_ENV = "CLUSTERIX_RAW_DIR"
ASSETS_DIR_ENV = "CLUSTERIX_ASSETS_DIR"
REFERENCE_DIR_ENV = "CLUSTERIX_REFERENCE_DIR"
STATE_DIR_ENV = "CLUSTERIX_STATE_DIR"


def raw_dir() -> Path:
    """The partners' drop folder (``raw/`` unless ``CLUSTERIX_RAW_DIR`` says otherwise)."""
    return Path(os.environ.get(RAW_DIR_ENV, "raw")).resolve()


def assets_dir() -> Path:
    """The published tables (``assets/`` unless ``CLUSTERIX_ASSETS_DIR`` says otherwise)."""
    return Path(os.environ.get(ASSETS_DIR_ENV, "assets")).resolve()


def state_dir() -> Path:
    """What only the pipeline reads (``state/`` unless ``CLUSTERIX_STATE_DIR`` says otherwise).

    Submission states, the archive of every file version and anything pickled live
    here, outside the assets directory, so that BI users see only what they use.
    """
    return Path(os.environ.get(STATE_DIR_ENV, "state")).resolve()


def reference_dir() -> Path | None:
    """Reference data to use instead of the bundled files (``CLUSTERIX_REFERENCE_DIR``).

    Lets a coordinator try edited reference files before committing them, and lets the
    benchmark run the pipeline for a larger, synthetic programme.
    """
    configured = os.environ.get(REFERENCE_DIR_ENV)
    return Path(configured).resolve() if configured else None
