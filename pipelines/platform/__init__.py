"""Plumbing with no domain knowledge: settings, files and object storage, the writer
lock, the Dagster instance set-up and run retention."""
