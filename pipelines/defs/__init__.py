"""The Dagster layer: assets, checks, partitions, IO managers, sensors and schedules.

Everything here is wiring. The work itself is done by ``pipelines.core``, which
knows nothing of Dagster.
"""
