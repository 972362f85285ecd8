"""The shipped development Dagster instance configuration and where it goes.

Without a ``dagster.yaml`` Dagster warns, turns telemetry on, prints a telemetry banner
and a community invitation in the middle of our output, and later tries to reach
telemetry.dagster.io. A monitoring tool of a public body must do none of that by
default, so every instance this project creates for development, the demo and the
tests starts from ``deploy/dev/dagster.yaml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipelines.core.outputs.parquet import write_atomic

DEV_INSTANCE_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "dev" / "dagster.yaml"
CONFIG_NAME = "dagster.yaml"

# Dagster's telemetry uploader checks only this variable, not the instance setting, before
# sending a log left in $DAGSTER_HOME/logs by an older, telemetry-on instance.
NO_TELEMETRY_ENV = {"DAGSTER_DISABLE_TELEMETRY": "1"}


def ensure_instance_config(home: Path) -> Path:
    """Give ``home`` the shipped dev configuration unless it already has its own.

    An existing ``dagster.yaml`` is the operator's choice (production uses Postgres) and
    is never overwritten.
    """
    home.mkdir(parents=True, exist_ok=True)
    target = home / CONFIG_NAME
    if not target.exists():
        write_atomic(target, lambda tmp: shutil.copyfile(DEV_INSTANCE_CONFIG, tmp))
    return target
