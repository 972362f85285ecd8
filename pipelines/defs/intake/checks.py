"""Schema checks that guard publication: a table that fails its check is not written.

Every published table has a ``conforms_to_schema`` check against the Pandera schema
generated from its definition. The check is evaluated BEFORE the table is handed to
its IO manager, and it is blocking: on failure the output is withheld, so readers
keep the previous file, and steps that read the table do not run.
"""

import hashlib
import warnings
from collections.abc import Iterable, Iterator, Mapping

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from pipelines.core.metadata.schemas import table_schema
from pipelines.core.metadata.tables import Table
from pipelines.defs.metadata import column_schema, markdown_table, table_metadata

SCHEMA_CHECK = "conforms_to_schema"


def schema_check_description(table: Table) -> str:
    return (
        f"`{table.name}` matches its generated schema (types, required values, allowed"
        " values, unique keys). A failure means the pipeline produced a table that breaks"
        " its own contract: it was NOT published this run (readers keep the previous"
        " file) and the steps that read it did not run. The metadata lists the failures."
    )


def table_out(table: Table, group: str) -> dg.AssetOut:
    """An optional output, so that a failed schema check can withhold it."""
    return dg.AssetOut(
        key=table.name,
        io_manager_key="table_io",
        description=table.description,
        metadata={"table": table.name, "dagster/column_schema": column_schema(table)},
        group_name=group,
        kinds={"parquet"},
        is_required=False,
    )


def schema_check_specs(tables: Iterable[Table]) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            SCHEMA_CHECK, asset=t.name, description=schema_check_description(t), blocking=True
        )
        for t in tables
    ]


def schema_check(frame: pd.DataFrame, table: Table) -> dg.AssetCheckResult:
    """The frame against the Pandera schema generated from the table's definition."""
    try:
        table_schema(table).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        return dg.AssetCheckResult(
            asset_key=table.name,
            check_name=SCHEMA_CHECK,
            passed=False,
            metadata={
                "failures": dg.MetadataValue.int(len(cases)),
                "sample": dg.MetadataValue.md(
                    markdown_table(cases[["column", "check", "failure_case", "index"]])
                ),
            },
        )
    return dg.AssetCheckResult(asset_key=table.name, check_name=SCHEMA_CHECK, passed=True)


def content_version(frame: pd.DataFrame) -> dg.DataVersion:
    """A data version that changes exactly when the table's content does."""
    text = frame.to_csv(index=False)
    return dg.DataVersion(hashlib.sha256(text.encode("utf-8")).hexdigest()[:16])


def checked_outputs(
    items: Iterable[tuple[Table, pd.DataFrame, Mapping[str, object]]],
    versioned: bool = False,
) -> Iterator[dg.AssetCheckResult | dg.Output]:
    """For each table its schema check, then the table itself only if the check passed.

    ``versioned`` gives each table a data version from its content: a table written
    again with the same content then leaves the assets built on it up to date
    (not "Unsynced") in the UI.
    """
    for table, frame, extra in items:
        result = schema_check(frame, table)
        yield result
        if result.passed:
            metadata = {**table_metadata(frame, table), **extra}
            version = content_version(frame) if versioned else None
            with warnings.catch_warnings():
                # Output's data_version is beta in Dagster 1.13 (README, "Dagster's public
                # API"); known and tested here, it is not news for the run's terminal.
                warnings.simplefilter("ignore", dg.BetaWarning)
                output = dg.Output(
                    frame, output_name=table.name, metadata=metadata, data_version=version
                )
            yield output
