"""The connection-level part of the store that every query mixin shares."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # iso() is used where sqlite-utils is not wanted: in parse processes
    import sqlite_utils


def iso(dt: datetime | None) -> str | None:
    """UTC, second precision: strings that sort like the instants they name."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_json(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


class StoreBase:
    db: sqlite_utils.Database

    # The store's own clock, as iso() writes instants: leases are judged by it, never by a
    # caller's ``now`` (which may be a month ahead on purpose, or a host's clock that drifts).
    NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')"

    @staticmethod
    def now_plus_sql(delta: timedelta) -> str:
        return f"strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '+{int(delta.total_seconds())} seconds')"

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE: take the write lock up front so two writers never deadlock."""
        conn = self.db.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:  # SQLite has rolled back by itself after some errors (a full disk)
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @contextmanager
    def durable(self) -> Iterator[None]:
        """Commits inside reach the disk (fsync of the WAL) before the block returns."""
        conn = self.db.conn
        if conn.in_transaction:
            raise RuntimeError("durable() must start outside a transaction")
        conn.execute("PRAGMA synchronous = FULL")
        try:
            yield
        finally:
            conn.execute("PRAGMA synchronous = NORMAL")

    @staticmethod
    def _where(**filters: object) -> tuple[str, list]:
        """``WHERE a = ? AND b = ?`` for the filters that are set (None means any)."""
        set_ = {column: value for column, value in filters.items() if value is not None}
        clause = " AND ".join(f"{column} = ?" for column in set_)
        return (f"WHERE {clause}" if clause else ""), list(set_.values())

    def _one(self, sql: str, params: Sequence = ()) -> dict | None:
        """The first row of a query as a dict, or None."""
        return next(iter(self.db.query(sql, params)), None)

    def _update(self, table: str, row_id: int, values: dict) -> None:
        """``UPDATE table SET key = value, ... WHERE id = row_id`` (keys are ours, never user input)."""
        assignments = ", ".join(f"{key} = ?" for key in values)
        self._exec(f"UPDATE {table} SET {assignments} WHERE id = ?", [*values.values(), row_id])

    def _exec(self, sql: str, params: Sequence = ()) -> sqlite3.Cursor:
        """sqlite3 directly: sqlite-utils' wrapper costs more than the query on hot paths."""
        return self.db.conn.execute(sql, params)
