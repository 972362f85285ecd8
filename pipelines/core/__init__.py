"""Domain core of the CLUSTERIX pipeline.

Nothing in this package imports Dagster: it holds the reference data, the column
definitions, safe workbook reading, validation rules, fact semantics and indicator
definitions. The Dagster layer in ``pipelines.defs`` only wires these into assets.
"""
