"""What readers get: Parquet and the manifest, DuckDB, the report, feedback workbooks,
the template and the data dictionary."""
