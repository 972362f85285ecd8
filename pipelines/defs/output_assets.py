"""Outputs that are documents rather than tables."""

from __future__ import annotations

import dagster as dg

from pipelines.core.dictionary import data_dictionary as render_dictionary
from pipelines.core.publish import write_atomic
from pipelines.defs.resources import ClusterixPaths


@dg.asset(group_name="outputs", kinds={"markdown"}, description="assets/README.md for analysts.")
def data_dictionary(paths: ClusterixPaths) -> dg.MaterializeResult:
    text = render_dictionary()
    path = write_atomic(paths.assets / "README.md", lambda tmp: tmp.write_text(text, "utf-8"))
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(path)), "text": dg.MetadataValue.md(text)}
    )
