"""Reference tables, the partitioned submission asset, ingest, its checks and statuses."""
