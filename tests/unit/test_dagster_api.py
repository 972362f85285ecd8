"""The pipeline uses Dagster's public API only, and the few places that go beyond what
Dagster exports are looked at again on each Dagster minor version."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"
PRIVATE_IMPORT = re.compile(r"^\s*(from|import)\s+dagster(_\w+)?\._", re.MULTILINE)
# README, "Dagster's public API": what was checked against this minor version.
CHECKED_MINOR = (1, 13)


def test_no_module_imports_a_private_dagster_module():
    offenders = [
        str(path.relative_to(PIPELINES))
        for path in sorted(PIPELINES.rglob("*.py"))
        if PRIVATE_IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_dagster_minor_version_is_the_one_checked():
    """On a new minor version: check the items README "Dagster's public API" lists (the
    executor's run context, the logger name ``clusterix run`` filters, the preview
    partition-scoped check), then raise ``CHECKED_MINOR``."""
    minor = tuple(int(part) for part in dg.__version__.split(".")[:2])
    assert minor == CHECKED_MINOR, f"Dagster {dg.__version__}: see README, Dagster's public API"
