"""Indicator assets and the tables built on them."""
