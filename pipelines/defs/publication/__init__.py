"""The published tables, the report, feedback workbooks and the data dictionary."""
