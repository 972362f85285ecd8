"""Indicators computed from the current facts, with breakdowns, progress and completeness."""
