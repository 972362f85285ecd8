"""Builders shared by the tests: workbooks, Dagster instances, throw-away servers."""
