"""``assets/clusterix.duckdb``: one file a SQL user opens to find every table, described.

The database holds no data, only views: one per published table over the stable
Parquet file, with the table's and every column's description as a DuckDB comment,
and a few views answering the questions analysts ask first. The views name the
Parquet files by relative paths (``'events.parquet'``), so the assets folder can be
copied or moved as a whole. DuckDB resolves a relative path against the current
directory, or against ``file_search_path`` when it is set: open the database from
inside the assets folder, or set ``file_search_path`` to it (:func:`connect` does).

The file is built under a temporary name and renamed into place, so a reader never
opens half a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from pipelines.core.metadata.tables import Table
from pipelines.platform.files import atomic_path

DATABASE = "clusterix.duckdb"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# Views for the first questions. Each is (name, description, SQL, column descriptions).
QUESTION_VIEWS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    (
        "funds_by_partner_instrument_period",
        "Funds influenced by implemented measures per partner, policy instrument and the"
        " reporting period the measure was implemented in.",
        """
        SELECT m.partner_id, p.short_name AS partner, m.policy_instrument_id,
               m.implemented_period_id,
               count(*) AS measures,
               sum(m.sf_influenced_eur) AS sf_influenced_eur,
               sum(m.other_funds_influenced_eur) AS other_funds_influenced_eur
        FROM policy_measures m JOIN partners p USING (partner_id)
        WHERE m.status = 'implemented'
        GROUP BY ALL
        ORDER BY min(p.sort_order), m.policy_instrument_id, m.implemented_period_id
        """,
        {
            "partner": "Short name of the partner.",
            "implemented_period_id": "Reporting period implemented_on falls in (empty in a"
            " gap between periods).",
            "measures": "Number of implemented measures.",
            "sf_influenced_eur": "Structural Funds influenced by the measures, in EUR.",
            "other_funds_influenced_eur": "Other funds influenced by the measures, in EUR.",
        },
    ),
    (
        "events_by_type_phase",
        "Policy learning events per event type and the phase of their start date, each"
        " consortium-level event counted once.",
        """
        SELECT e.event_type, e.event_phase,
               count(*) FILTER (WHERE e.counted) AS events,
               count(*) AS reports,
               sum(e.participants) FILTER (WHERE e.counted) AS participants
        FROM events e
        GROUP BY ALL
        ORDER BY e.event_type, e.event_phase
        """,
        {
            "event_phase": "Phase the event's start date falls in (empty in a gap between"
            " periods).",
            "events": "Distinct events (consortium-level events reported twice count once).",
            "reports": "Rows reported by partners, duplicates of consortium events included.",
            "participants": "Participants of the counted events.",
        },
    ),
    (
        "open_issues_by_partner",
        "Validation issues partners still have to act on (is_open), per partner and severity.",
        """
        SELECT coalesce(i.partner_id, '(unattributed)') AS partner_id, i.severity,
               count(*) AS issues,
               count(DISTINCT i.file) AS workbooks
        FROM validation_issues i
        WHERE i.is_open
        GROUP BY ALL
        ORDER BY partner_id, i.severity
        """,
        {
            "partner_id": "Partner the issues are for ((unattributed) for files in no partner's"
            " place).",
            "issues": "Number of open issues.",
            "workbooks": "Number of workbooks they are in.",
        },
    ),
)


def _table_statements(table: Table) -> list[str]:
    name = _ident(table.name)
    statements = [
        f"CREATE VIEW {name} AS SELECT * FROM {_literal(table.name + '.parquet')}",
        f"COMMENT ON VIEW {name} IS {_literal(table.description)}",
    ]
    statements += [
        f"COMMENT ON COLUMN {name}.{_ident(c.name)} IS {_literal(c.description)}"
        for c in table.columns
    ]
    return statements


def build_database(assets: Path, tables: Iterable[Table]) -> Path:
    """Write ``<assets>/clusterix.duckdb`` with a commented view per table, atomically."""
    target = assets / DATABASE
    tables = list(tables)
    descriptions = {c.name: c.description for t in tables for c in t.columns}
    with atomic_path(target) as tmp:
        tmp.unlink()  # DuckDB creates its own file; an empty one is not a database
        connection = duckdb.connect(str(tmp), config={"file_search_path": str(assets)})
        try:
            for table in tables:
                for statement in _table_statements(table):
                    connection.execute(statement)
            for name, description, sql, columns in QUESTION_VIEWS:
                connection.execute(f"CREATE VIEW {_ident(name)} AS {sql}")
                connection.execute(f"COMMENT ON VIEW {_ident(name)} IS {_literal(description)}")
                names = [
                    row[0] for row in connection.execute(f"DESCRIBE {_ident(name)}").fetchall()
                ]
                for column in names:
                    text = columns.get(column) or descriptions.get(column)
                    if text:
                        connection.execute(
                            f"COMMENT ON COLUMN {_ident(name)}.{_ident(column)} IS {_literal(text)}"
                        )
            connection.execute("CHECKPOINT")
        finally:
            connection.close()
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return target


def connect(assets: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the assets' database that works from any directory."""
    return duckdb.connect(
        str(assets / DATABASE), read_only=True, config={"file_search_path": str(assets)}
    )
