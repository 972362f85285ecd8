"""The shipped Dagster instance configurations, and the one way they are installed.

``deploy/dev/dagster.yaml`` is for development, the demo and the tests (``clusterix
run``, ``make ui``); ``deploy/dagster.yaml`` is production's (``make serve``: a queue of
one run, run monitoring, retention), with Postgres storage when
``CLUSTERIX_POSTGRES_URL`` is set. Either goes into ``$DAGSTER_HOME/dagster.yaml`` marked
as installed: a later install refreshes a marked file and keeps an operator's own.

Without a ``dagster.yaml`` Dagster warns, turns telemetry on, prints a telemetry banner
and a community invitation in the middle of our output, and later tries to reach
telemetry.dagster.io; both shipped files turn that off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DEV_INSTANCE_CONFIG = DEPLOY / "dev" / "dagster.yaml"
PRODUCTION_INSTANCE_CONFIG = DEPLOY / "dagster.yaml"
CONFIG_NAME = "dagster.yaml"
POSTGRES_URL_ENV = "CLUSTERIX_POSTGRES_URL"
MARKER = "# Installed from deploy/ by CLUSTERIX; edit the shipped file instead.\n"
# Earlier installs that carry no marker but are ours to refresh: `make serve`'s, and
# verbatim copies of the dev file (its first line).
_EARLIER_MARKERS = (
    "# Installed by `make serve` from deploy/dagster.yaml",
    "# CLUSTERIX 2.0: Dagster instance configuration for DEVELOPMENT",
)

# Dagster's telemetry uploader checks only this variable, not the instance setting, before
# sending a log left in $DAGSTER_HOME/logs by an older, telemetry-on instance.
NO_TELEMETRY_ENV = {"DAGSTER_DISABLE_TELEMETRY": "1"}


def dev_config() -> str:
    """The development instance configuration, as installed."""
    return MARKER + DEV_INSTANCE_CONFIG.read_text(encoding="utf-8")


def production_config(environ: Mapping[str, str] = os.environ) -> str:
    """The production configuration, with Postgres storage when the URL variable is set.

    The URL itself is not written to the file (``env:``): it holds a password.
    """
    config = yaml.safe_load(PRODUCTION_INSTANCE_CONFIG.read_text(encoding="utf-8"))
    if environ.get(POSTGRES_URL_ENV):
        config["storage"] = {"postgres": {"postgres_url": {"env": POSTGRES_URL_ENV}}}
    return MARKER + yaml.safe_dump(config, sort_keys=False)


def install_instance(home: Path, config: str) -> Path:
    """Write ``config`` as ``home/dagster.yaml`` unless an operator wrote their own there.

    A file this function installed (it starts with the marker) is replaced; any other
    ``dagster.yaml`` is the operator's choice and is never overwritten.
    """
    home.mkdir(parents=True, exist_ok=True)
    target = home / CONFIG_NAME
    if target.exists() and (
        not _installed_by_us(target) or target.read_text(encoding="utf-8") == config
    ):
        return target
    tmp = target.with_name(f".{CONFIG_NAME}.{os.getpid()}.tmp")
    tmp.write_text(config, encoding="utf-8")
    tmp.replace(target)
    return target


def _installed_by_us(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as file:
        first = file.readline()
    return first == MARKER or first.startswith(_EARLIER_MARKERS)


def main() -> int:
    """``python -m pipelines.platform.instance``: the dev configuration into ``$DAGSTER_HOME``."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        print("error: DAGSTER_HOME is not set", file=sys.stderr)
        return 2
    install_instance(Path(home), dev_config())
    return 0


if __name__ == "__main__":
    sys.exit(main())
