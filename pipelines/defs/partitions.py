"""A submission is one partner x period: the two dimensions of the ingest partitions."""

import dagster as dg

from pipelines.core.reference import reference

PARTNER_DIM = "partner"
PERIOD_DIM = "period"

submission_partitions = dg.MultiPartitionsDefinition(
    {
        PARTNER_DIM: dg.StaticPartitionsDefinition(reference().partner_ids),
        PERIOD_DIM: dg.StaticPartitionsDefinition(reference().period_ids),
    }
)


def partition_key(partner_id: str, period_id: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({PARTNER_DIM: partner_id, PERIOD_DIM: period_id})


def split_key(key: str | dg.MultiPartitionKey) -> tuple[str, str]:
    """(partner_id, period_id) of a partition key, whatever form Dagster hands it in."""
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
    else:
        dims = submission_partitions.get_partition_key_from_str(key).keys_by_dimension
    return dims[PARTNER_DIM], dims[PERIOD_DIM]


def all_partitions_tags() -> dict[str, str]:
    """Run tags that make one run cover every partner x period (a single-run backfill)."""
    keys = submission_partitions.get_partition_keys()
    return {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }
