"""Reference tables published from the project folder in use (``CLUSTERIX_PROJECT_DIR``,
by default ``pipelines/projects/clusterix-2.0``).

One step publishes them all, each checked against its schema first. They are the
upstream of everything that validates or counts (see the ``deps`` of the ingest,
publication and indicator steps), so the lineage shows what the figures rest on.
"""

import dagster as dg

from pipelines.core.metadata.tables import REFERENCE_TABLES
from pipelines.core.reference.loader import reference, reference_frames
from pipelines.defs.intake.checks import checked_outputs, schema_check_specs, table_out


@dg.multi_asset(
    outs={t.name: table_out(t, "reference") for t in REFERENCE_TABLES},
    check_specs=schema_check_specs(REFERENCE_TABLES),
    description="The reference data (validated when loaded) as published tables.",
)
def reference_tables():
    frames = reference_frames(reference())
    # Versioned by content: re-published unchanged, they leave everything downstream
    # up to date in the UI (not "Unsynced").
    yield from checked_outputs(((t, frames[t.name], {}) for t in REFERENCE_TABLES), versioned=True)
