"""A partition's check evaluation logged by the ingest step, pointed at the partition's
materialization it was made against.

This is the one module that imports a Dagster name Dagster does not export (README,
"Dagster's public API"; ``tests/unit/test_dagster_api.py`` lists it).
"""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)


def targeting(
    evaluation: dg.AssetCheckEvaluation, materialization: dg.EventLogRecord | None
) -> dg.AssetCheckEvaluation:
    """The evaluation, pointing at the partition's materialization it was made against.

    Dagster counts a partition's check only while it targets the partition's latest
    materialization; an evaluation logged by hand (not returned by the check itself)
    must say which one. ``AssetCheckEvaluationTargetMaterializationData`` is not
    exported by Dagster 1.13; it is the only way to say it from the ingest step.
    """
    if materialization is None:
        return evaluation
    target = AssetCheckEvaluationTargetMaterializationData(
        storage_id=materialization.storage_id,
        run_id=materialization.run_id,
        timestamp=materialization.timestamp,
    )
    return dg.AssetCheckEvaluation(
        asset_key=evaluation.asset_key,
        check_name=evaluation.check_name,
        passed=evaluation.passed,
        metadata=evaluation.metadata,
        target_materialization_data=target,
        severity=evaluation.severity,
        description=evaluation.description,
        partition=evaluation.partition,
    )
