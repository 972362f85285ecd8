"""The dev instance's event log: Dagster's SQLite storage with one lasting index connection.

Dagster's ``SqliteEventLogStorage`` opens and closes a new SQLite connection for every
write, and writes every asset and check event twice: to the run's own database and to
the cross-run ``index.db``. Closing a connection checkpoints the database's write-ahead
log, so each of the ~900 connections of a sample run costs 1-2 ms: a third of
``clusterix run`` on the bundled sample, and more at scale, where every partner-period
adds a materialisation and a check result (measured in ``scripts/benchmark.py``).

The run databases keep Dagster's behaviour: the webserver follows a live run by watching
``<run_id>.db`` change on disk, which happens at that checkpoint. Nothing watches
``index.db``, so this storage keeps one connection to it per process. It stays in
write-ahead-log mode (as Dagster creates it) with ``synchronous=NORMAL``, SQLite's
setting for that mode: a crash of the process loses nothing committed and the database
stays consistent; a power cut may lose the last transactions of the event index, never
its integrity. Production uses Postgres (``deploy/dagster.yaml``), not this class.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._serdes import ConfigurableClassData

HOME_ENV = "DAGSTER_HOME"


def _default_base_dir() -> str:
    """Where Dagster's default SQLite storage keeps run event logs: ``history/runs``."""
    home = os.environ.get(HOME_ENV)
    if not home:
        raise ValueError(f"set {HOME_ENV} or give the event log storage a base_dir")
    return os.path.join(home, "history", "runs")


class IndexedSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` that keeps its ``index.db`` connection open (see module)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        # Set before Dagster's __init__, which already writes to the index.
        self._index_engine: db.engine.Engine | None = None
        self._index_pid: int | None = None
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls) -> Mapping[str, Any]:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> IndexedSqliteEventLogStorage:
        base_dir = config_value.get("base_dir") or _default_base_dir()
        return cls(base_dir=base_dir, inst_data=inst_data)

    def _engine_for_index(self) -> db.engine.Engine:
        """This process's engine on ``index.db`` (a forked child makes its own)."""
        if self._index_engine is not None and self._index_pid == os.getpid():
            return self._index_engine
        if self._index_engine is not None:  # inherited through fork: never touch its socket
            self._index_engine.dispose(close=False)
        engine = db.create_engine(
            self.conn_string_for_shard(INDEX_SHARD_NAME),
            pool_size=1,
            # Dagster's wait for a database another process is writing.
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        db.event.listen(engine, "connect", _normal_sync)
        if INDEX_SHARD_NAME not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(INDEX_SHARD_NAME)
        self._index_engine, self._index_pid = engine, os.getpid()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[db.engine.Connection]:
        if shard != INDEX_SHARD_NAME:
            with super()._connect(shard) as conn:
                yield conn
            return
        # Dagster's lock: the webserver's threads share this storage and its connection.
        with self._db_lock, self._engine_for_index().connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        super().dispose()
        if self._index_engine is not None and self._index_pid == os.getpid():
            self._index_engine.dispose()
        self._index_engine = None


def _normal_sync(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
