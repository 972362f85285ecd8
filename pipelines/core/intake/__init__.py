"""From a file in the drop folder to validated rows: discovery, the byte guard, the
workbook reader, cell typing, validation and ingest."""
