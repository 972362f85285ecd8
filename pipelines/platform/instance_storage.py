"""The dev instance's event log: Dagster's SQLite storage without a disk sync per event.

Dagster's ``SqliteEventLogStorage`` opens and closes a new SQLite connection for every
event, and writes every asset and check event twice: to the run's own database and to
the cross-run ``index.db``. Each commit and each close (which checkpoints the
write-ahead log) waits for the disk: 2-4 ms per event on a quiet disk, 20-40 ms when
the disk is busy. With one materialisation per partner-period that was a third of a
sample run and most of a run at 10x and 100x (``scripts/benchmark.py``).

- ``index.db``: nothing watches it, so this storage keeps one connection to it per
  process, in write-ahead-log mode (as Dagster creates it) with ``synchronous=NORMAL``,
  SQLite's setting for that mode: a crash loses nothing committed and the index stays
  consistent; a power cut may lose its last transactions, never its integrity.
- ``<run_id>.db``: the webserver follows a live run by watching this file for changes.
  Dagster's storage changes it by closing a connection per event (the close moves the
  write-ahead log into the file). This storage keeps one connection to each of a few
  recent run databases, with ``synchronous=OFF`` (the operating system writes the pages
  without the process waiting for the disk), and touches the file's time after each
  write, which the watcher sees as a change. A crashed process loses nothing; a power
  cut or kernel crash during a run may damage that run's event log (its page in the
  UI), never the published tables, the state directory or the index.
- Dagster reflects the asset table's columns for every asset event, to learn whether
  a migration has added them; a yes is remembered.

Measured on 2,000 materialisations stored one by one (the way a run stores them): 2.9 ms
each with Dagster's storage before these last two changes, 1.1 ms with them.

Production uses Postgres (``deploy/dagster.yaml``), not this class.
"""

from __future__ import annotations

import os
from collections import OrderedDict
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
# Run databases this process keeps a connection to (the writer needs one).
OPEN_RUN_DATABASES = 4


def _default_base_dir() -> str:
    """Where Dagster's default SQLite storage keeps run event logs: ``history/runs``."""
    home = os.environ.get(HOME_ENV)
    if not home:
        raise ValueError(f"set {HOME_ENV} or give the event log storage a base_dir")
    return os.path.join(home, "history", "runs")


class IndexedSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` without a disk wait per event (see the module)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        # Set before Dagster's __init__, which already writes to the index.
        self._index_engine: db.engine.Engine | None = None
        self._index_pid: int | None = None
        self._run_engines: OrderedDict[str, db.engine.Engine] = OrderedDict()
        self._run_engines_pid: int | None = None
        self._has_index_cols = False
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
        if self._index_engine is not None:  # inherited through fork: never use its file handle
            self._index_engine.dispose(close=False)
        engine = self._new_engine(INDEX_SHARD_NAME, "NORMAL")
        self._index_engine, self._index_pid = engine, os.getpid()
        return engine

    def _new_engine(self, shard: str, synchronous: str) -> db.engine.Engine:
        """An engine holding one connection to a shard, with SQLite's ``synchronous``
        setting, the database created (as Dagster does) the first time."""
        engine = db.create_engine(
            self.conn_string_for_shard(shard),
            pool_size=1,
            # Dagster's wait for a database another process is writing.
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        pragma = f"PRAGMA synchronous={synchronous}"
        db.event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute(pragma))
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[db.engine.Connection]:
        if shard != INDEX_SHARD_NAME:
            with self._db_lock, self._engine_for_run(shard).connect() as conn:
                changes = _changes(conn)
                with conn.begin():
                    yield conn
                # Only after a write: a watcher's own read must not wake it again.
                if _changes(conn) != changes:
                    os.utime(self.path_for_shard(shard))
            return
        # Dagster's lock: the webserver's threads share this storage and its connection.
        with self._db_lock, self._engine_for_index().connect() as conn, conn.begin():
            yield conn

    def _has_asset_key_index_cols_on_connection(self, conn: db.engine.Connection) -> bool:
        """Dagster reflects the asset table's columns for every asset event (a third of
        its cost); a column that a migration added stays, so a yes is remembered."""
        if not self._has_index_cols:
            self._has_index_cols = super()._has_asset_key_index_cols_on_connection(conn)
        return self._has_index_cols

    def _engine_for_run(self, shard: str) -> db.engine.Engine:
        """This process's engine on one run database, holding one connection. Only the
        most recent few are kept: the webserver reads many runs' logs over its life."""
        if self._run_engines_pid != os.getpid():
            self._close_run_engines()
        engine = self._run_engines.get(shard)
        if engine is not None:
            self._run_engines.move_to_end(shard)
            return engine
        engine = self._run_engines[shard] = self._new_engine(shard, "OFF")
        if len(self._run_engines) > OPEN_RUN_DATABASES:
            self._run_engines.popitem(last=False)[1].dispose()
        return engine

    def _close_run_engines(self) -> None:
        """Close this process's connections to run databases; those inherited through a
        fork belong to the parent and are only forgotten."""
        own = self._run_engines_pid == os.getpid()
        for engine in self._run_engines.values():
            engine.dispose(close=own)
        self._run_engines, self._run_engines_pid = OrderedDict(), os.getpid()

    def delete_events(self, run_id: str) -> None:
        """Deleting a run's events leaves no connection of ours to its database, which
        run retention then removes."""
        super().delete_events(run_id)  # through _engine_for_run: the engines are ours
        with self._db_lock:
            engine = self._run_engines.pop(run_id, None)
            if engine is not None:
                engine.dispose()

    def wipe(self) -> None:
        """Dagster's wipe deletes the run databases' files: close ours first."""
        with self._db_lock:
            self._close_run_engines()
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._close_run_engines()
        if self._index_engine is not None and self._index_pid == os.getpid():
            self._index_engine.dispose()
        self._index_engine = None


def _changes(conn: db.engine.Connection) -> int:
    """Rows this SQLite connection has inserted, updated or deleted since it opened."""
    return conn.connection.dbapi_connection.total_changes
