"""One partition per partner-period the project in use EXPECTS a workbook for.

Keys such as ``P4|RP07``, from ``Reference.expected_submissions`` (a phase may leave
partners out: CLUSTERIX 2.0's P11 takes no part in its extended phase, 118 keys in all).
A static list rather than a partner x period grid, because a grid would count the
partner-periods a phase leaves out as expected and Dagster offers no way to leave
cells out of a multi-dimensional definition.
"""

import dagster as dg

from pipelines.core.reference.loader import reference

SEPARATOR = "|"


def partition_key(partner_id: str, period_id: str) -> str:
    return f"{partner_id}{SEPARATOR}{period_id}"


def split_key(key: str) -> tuple[str, str]:
    """(partner_id, period_id) of a partition key."""
    partner_id, period_id = key.split(SEPARATOR)
    return partner_id, period_id


submission_partitions = dg.StaticPartitionsDefinition(
    [partition_key(partner, period) for partner, period in reference().expected_submissions()]
)
