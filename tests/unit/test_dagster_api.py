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
# The private imports Dagster 1.13 leaves no public way around, each with what blocks it;
# looked at again with CHECKED_MINOR. Nothing else may import a private module.
KNOWN_PRIVATE = {
    # The ingest step reports a partition's check evaluation itself, and it must name the
    # partition's materialization it was made against: ``dg.AssetCheckResult`` takes no
    # partition nor target, and ``dg.AssetCheckEvaluation``'s ``target_materialization_data``
    # takes a class Dagster does not export. Partition-scoped checks are still a preview:
    # dagster-io/dagster#17005 (Partitioned asset checks).
    "defs/intake/check_targets.py": (
        "from dagster._core.definitions.asset_checks.asset_check_evaluation import"
    ),
}


def _private_imports(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if PRIVATE_IMPORT.match(line)]


def test_no_module_imports_a_private_dagster_module():
    offenders = {}
    for path in sorted(PIPELINES.rglob("*.py")):
        name = str(path.relative_to(PIPELINES))
        found = _private_imports(path.read_text(encoding="utf-8"))
        known = KNOWN_PRIVATE.get(name, ())
        known = (known,) if isinstance(known, str) else known
        extra = [line for line in found if not any(line.startswith(k) for k in known)]
        if extra:
            offenders[name] = extra
    assert offenders == {}


def test_each_known_private_import_is_still_needed():
    """An exception whose import is gone is removed from KNOWN_PRIVATE."""
    for name, known in KNOWN_PRIVATE.items():
        found = _private_imports((PIPELINES / name).read_text(encoding="utf-8"))
        for k in (known,) if isinstance(known, str) else known:
            assert any(line.startswith(k) for line in found), (name, k)


def test_the_dagster_minor_version_is_the_one_checked():
    """On a new minor version: check the items README "Dagster's public API" lists (the
    executor's run context, the logger name ``clusterix run`` filters, the preview
    partition-scoped check), then raise ``CHECKED_MINOR``."""
    minor = tuple(int(part) for part in dg.__version__.split(".")[:2])
    assert minor == CHECKED_MINOR, f"Dagster {dg.__version__}: see README, Dagster's public API"
