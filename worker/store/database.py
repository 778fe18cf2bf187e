"""SQLite, the one place Amends remembers anything.

The store owns the schema (``migrations.py``) and every query; other modules call these
methods and never write SQL of their own. Each method that changes state commits before it
returns, so the next side effect (an IMAP fetch, an SMTP send) happens only after the change
that precedes it is recorded.

Durability: the database runs in WAL mode with ``synchronous = NORMAL``. A commit survives
the process being killed, but a power cut may lose the last few commits. That is safe for
ingest: the UID cursor is lost with the messages, and they are fetched again. It is not safe
for the outbox writes that come just before an SMTP conversation (``sending`` at stage
``connect``, then stage ``data``). Losing one of those could make a restarted sender believe
that a message the server already has was never started. So those writes, and claims, are
made under ``synchronous = FULL`` (``StoreBase.durable``): the WAL is synced to disk before
the SMTP command that follows them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlite_utils

from ..config import DEFAULT_MAILBOX
from ..errors import NotFound
from .base import StoreBase, iso, to_json, utcnow
from .customers import CustomerQueries
from .jobs import JobQueries
from .listing import ListingQueries
from .mailboxes import MailboxQueries
from .migrations import MIGRATIONS
from .outbox import OutboxQueries
from .report import ReportQueries
from .review import ReviewQueries

__all__ = ["Fetched", "Store", "content_key", "iso", "message_key", "utcnow"]


@dataclass(frozen=True)
class Fetched:
    """One message as the IMAP server gave it to us."""

    uid: int
    raw: bytes
    size: int
    internal_date: datetime | None


def message_key(raw: bytes, message_id: str | None) -> str:
    """Identity across folders and UIDVALIDITY resets: the Message-ID, else the bytes' hash.
    Two different messages with one Message-ID (web forms and scripts reuse them) are told
    apart by ``content_key``: the second is stored under ``mid:ID#<its content key>``."""
    if message_id:
        return f"mid:{message_id}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def content_key(raw: bytes) -> str:
    """The sender, the date and the body: what copies of one message share even when their
    trace headers differ (a copy in another folder, or delivered to a second mailbox)."""
    ends = [(at, len(mark)) for mark in (b"\r\n\r\n", b"\n\n") if (at := raw.find(mark)) >= 0]
    at, length = min(ends) if ends else (len(raw), 0)
    wanted: dict[bytes, list[bytes]] = {b"from": [], b"date": []}
    current: list[bytes] | None = None
    for line in raw[:at].split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if current is not None:
                current.append(line.strip())
            continue
        name, colon, value = line.partition(b":")
        current = wanted.get(name.strip().lower()) if colon else None
        if current is not None and not current:
            current.append(value.strip())
        elif current is not None:
            current = None  # a repeated header: the first one counts
    digest = hashlib.sha256()
    for name in (b"from", b"date"):
        digest.update(b" ".join(wanted[name]) + b"\0")
    digest.update(raw[at + length:].strip())
    return digest.hexdigest()[:32]


def _private(path: Path) -> None:
    """The database holds every customer's mail and the reviewers' password hashes: only its
    owner may read it. A new folder is 0700, the file and its WAL 0600 (SQLite gives the WAL
    and shared-memory files the database's mode); an existing one readable by others is
    tightened."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


@functools.lru_cache(maxsize=16)
def _update_sql(columns: tuple[str, ...]) -> str:
    return f"UPDATE messages SET {', '.join(f'{key} = ?' for key in columns)} WHERE id = ?"


class Store(ReviewQueries, OutboxQueries, JobQueries, MailboxQueries, ReportQueries, CustomerQueries, ListingQueries,
            StoreBase):
    def __init__(self, db: sqlite_utils.Database, path: str) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: str, busy_timeout: float = 30.0) -> "Store":
        """Open (and migrate) the database; ``busy_timeout`` is how long a statement waits for
        another process's write lock before it fails with "database is locked"."""
        if path != ":memory:":
            _private(Path(path))
        conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        store = cls(db, path)
        store.migrate()
        return store

    def close(self) -> None:
        self.db.conn.close()

    # -- schema -------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        """Apply the migrations not applied yet. Several processes may open a new database at
        once: the first takes the write lock and migrates, the others wait and find it done."""
        if self._pending_migrations(locked=False) == []:
            return []  # the usual case, without taking the write lock
        applied = []
        with self.transaction():
            for version, name, sql in self._pending_migrations(locked=True):
                for statement in sql.split(";"):
                    if statement.strip():
                        self._exec(statement)
                self._exec("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, iso(utcnow())])
                applied.append(version)
        return applied

    def _pending_migrations(self, locked: bool) -> list[tuple[int, str, str]]:
        exists = self._exec("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'").fetchone()
        if not exists:
            if not locked:
                return list(MIGRATIONS)
            self._exec("CREATE TABLE schema_migrations "
                       "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        done = {row[0] for row in self._exec("SELECT version FROM schema_migrations")}
        return [migration for migration in MIGRATIONS if migration[0] not in done]

    def schema_version(self) -> int:
        return self.db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0

    # -- raw intake ---------------------------------------------------------------------------

    def store_batch(
        self,
        folder: str,
        uidvalidity: int,
        batch: Sequence[tuple[Fetched, str | None]],
        now: datetime,
        box: str = DEFAULT_MAILBOX,
    ) -> list[tuple[int, Fetched]]:
        """Keep the raw bytes of a fetched batch and advance the cursor, in one transaction.

        Returns the messages seen for the first time, with their ids; a message already stored
        (same location, or the same Message-ID from another folder or an older UIDVALIDITY)
        only gains a location.
        """
        new: list[tuple[int, Fetched]] = []
        with self.transaction():
            located = self._known(
                "SELECT uid, 1 FROM locations WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND uid IN ({})",
                [box, folder, uidvalidity], [fetched.uid for fetched, _ in batch])
            todo = [(fetched, mid, message_key(fetched.raw, mid), content_key(fetched.raw))
                    for fetched, mid in batch if fetched.uid not in located]
            known = self._known_keys([key for _, _, key, _ in todo] + [f"{key}#{ck}" for _, mid, key, ck in todo if mid])
            for fetched, mid, key, ck in todo:
                pk = self._same_message(known, key, ck) if mid else known.get(key, (None,))[0]
                if pk is None:
                    stored_as = f"{key}#{ck}" if key in known else key  # the Message-ID is taken by another message
                    pk = self._exec(
                        "INSERT INTO messages (message_key, message_id, sha256, size, folder, uid,"
                        " internal_date, fetched_at, mailbox, content_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            stored_as,
                            mid,
                            hashlib.sha256(fetched.raw).hexdigest(),
                            fetched.size,  # the server's size: for mail over the limit, raw is its header only
                            folder,
                            fetched.uid,
                            iso(fetched.internal_date),
                            iso(now),
                            box,
                            ck,
                        ],
                    ).lastrowid
                    known[stored_as] = (pk, ck)
                    self._exec("INSERT INTO raw_messages VALUES (?, ?)", [pk, fetched.raw])
                    new.append((pk, fetched))
                self._exec("INSERT INTO locations (mailbox, folder, uidvalidity, uid, message_pk) VALUES (?, ?, ?, ?, ?)",
                           [box, folder, uidvalidity, fetched.uid, pk])
            if batch:
                self.db.execute(
                    "UPDATE mailboxes SET last_uid = max(last_uid, ?) WHERE mailbox = ? AND folder = ?",
                    [max(f.uid for f, _ in batch), box, folder],
                )
        return new

    def _known_keys(self, keys: list[str]) -> dict[str, tuple[int, str | None]]:
        """``{message_key: (id, content_key)}`` of the stored messages among ``keys``."""
        found: dict[str, tuple[int, str | None]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            for key, pk, ck in self._exec(
                    f"SELECT message_key, id, content_key FROM messages WHERE message_key IN ({','.join('?' * len(chunk))})",
                    chunk):
                found[key] = (pk, ck)
        return found

    def _same_message(self, known: dict[str, tuple[int, str | None]], key: str, ck: str) -> int | None:
        """The stored message this one is a copy of: same Message-ID and same content. Rows
        stored before content keys were kept get theirs from their raw bytes, once; our own
        replies (no raw bytes) are known by their Message-ID."""
        if f"{key}#{ck}" in known:
            return known[f"{key}#{ck}"][0]
        if key not in known:
            return None
        pk, stored = known[key]
        if stored is None:
            row = self._exec("SELECT raw FROM raw_messages WHERE message_pk = ?", [pk]).fetchone()
            if row is None:
                return pk
            stored = content_key(row[0])
            self._exec("UPDATE messages SET content_key = ? WHERE id = ?", [stored, pk])
            known[key] = (pk, stored)
        return pk if stored == ck else None

    def _known(self, sql: str, fixed: list, values: list) -> dict:
        """``{first column: second}`` of ``sql`` for ``values`` in its ``IN ({})``, a chunk at a time."""
        found: dict = {}
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            found.update(self._exec(sql.format(",".join("?" * len(chunk))), [*fixed, *chunk]).fetchall())
        return found

    def pending_ids(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM messages WHERE state = 'new' ORDER BY id")]

    def raw(self, pk: int) -> bytes:
        row = self._exec("SELECT raw FROM raw_messages WHERE message_pk = ?", [pk]).fetchone()
        if row is None:
            raise NotFound(f"no raw message with id {pk}")
        return row[0]

    def messages_meta(self, ids: Sequence[int]) -> list[dict]:
        """``message_meta`` of many, in the order given (missing ones left out)."""
        found: dict[int, dict] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            found.update((row["id"], row) for row in self.db.query(
                "SELECT id, size, internal_date, fetched_at, state, mailbox FROM messages "
                f"WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        return [found[pk] for pk in ids if pk in found]

    # -- parsed results ------------------------------------------------------------------------

    def save_parsed(self, pk: int, fields: dict, parsed_at: str) -> None:
        """Record a parsed message: ``fields`` are columns as ``parsing.ready`` makes them (lists
        already JSON). One statement, so it needs no transaction of its own; ingest calls it in
        the one that assigns the message's conversation."""
        values = dict(fields, state="parsed", quarantine_reason=None, parsed_at=parsed_at)
        self._exec(_update_sql(tuple(values)), [*values.values(), pk])

    def quarantine(self, pk: int, reason: str) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE messages SET state = 'quarantined', quarantine_reason = ? WHERE id = ?",
                [reason, pk],
            )

    def requeue(self, pk: int) -> None:
        with self.transaction():
            self.db.execute("UPDATE messages SET state = 'new' WHERE id = ?", [pk])

    # -- conversations ---------------------------------------------------------------------

    def conversation_of(self, message_ids: Sequence[str]) -> int | None:
        """The conversation holding any of these Message-IDs, the most recent reference first."""
        for mid in message_ids:
            row = self._exec(
                "SELECT conversation_id FROM messages WHERE message_id = ? "
                "AND conversation_id IS NOT NULL LIMIT 1",
                [mid],
            ).fetchone()
            if row:
                return row[0]
        return None

    def conversation_by_subject(self, customer: str, subject_key: str, since: str, box: str = DEFAULT_MAILBOX) -> int | None:
        row = self._exec(
            "SELECT id FROM conversations WHERE customer = ? AND subject_key = ? "
            "AND last_message_at >= ? AND mailbox = ? ORDER BY last_message_at DESC LIMIT 1",
            [customer, subject_key, since, box],
        ).fetchone()
        return row[0] if row else None

    def new_conversation(self, customer: str | None, subject_key: str, at: str, box: str = DEFAULT_MAILBOX) -> int:
        """A conversation belongs to the mailbox the customer wrote to: the reply goes out from it."""
        cursor = self._exec(
            "INSERT INTO conversations (customer, subject_key, started_at, last_message_at, mailbox) "
            "VALUES (?, ?, ?, ?, ?)",
            [customer, subject_key, at, at, box],
        )
        return cursor.lastrowid

    def touch_conversation(self, conversation_id: int, at: str) -> None:
        self._exec(
            "UPDATE conversations SET last_message_at = max(last_message_at, ?) WHERE id = ?",
            [at, conversation_id],
        )

    def count_from_sender(self, address: str, since: str, before_id: int, limit: int) -> int:
        """Earlier messages from ``address`` since ``since``, counted up to ``limit`` only: the
        guard asks "at least the limit?", and counting all of a flood would be quadratic."""
        return self._exec(
            "SELECT count(*) FROM (SELECT 1 FROM messages WHERE from_addr = ? AND date >= ? AND id < ? "
            "AND state = 'parsed' LIMIT ?)",
            [address, since, before_id, limit],
        ).fetchone()[0]

    # -- classifications -----------------------------------------------------------------------

    _FROM_PEOPLE = (
        "SELECT m.id, m.subject, m.new_text, m.text, m.from_addr, m.date, m.conversation_id FROM messages m "
        "WHERE m.state = 'parsed' AND m.automated IS NULL AND m.direction = 'in' "
    )

    def unclassified(self, limit: int = 500) -> list[dict]:
        """Inbound mail from people that has no classification yet (an index holds just those)."""
        return list(self.db.query(
            self._FROM_PEOPLE.replace("FROM messages m", "FROM messages m INDEXED BY messages_unclassified")
            + "AND m.classified_at IS NULL ORDER BY m.id LIMIT ?", [limit]))

    def count_unclassified(self) -> int:
        return self._exec(
            "SELECT count(*) FROM messages m INDEXED BY messages_unclassified WHERE m.state = 'parsed' "
            "AND m.automated IS NULL AND m.direction = 'in' AND m.classified_at IS NULL").fetchone()[0]

    def from_people(self, ids: Sequence[int] | None = None) -> list[dict]:
        """Inbound mail from people: all of it, or just these ids (for reclassifying)."""
        if ids is None:
            return list(self.db.query(self._FROM_PEOPLE + "ORDER BY m.id"))
        return list(self.db.query(
            self._FROM_PEOPLE + f"AND m.id IN ({','.join('?' * len(ids))}) ORDER BY m.id", list(ids)))

    def earlier_cases(self, sender: str, since: str, before_id: int, conversation_id: int | None) -> int:
        """The sender's other conversations with a complaint in the window: a repeat complainer
        has been let down in more than one case (a chaser in the same thread is not one)."""
        return self._exec(
            "SELECT count(DISTINCT m.conversation_id) FROM classifications c JOIN messages m ON m.id = c.message_pk "
            "WHERE c.current = 1 AND c.complaint = 1 AND m.from_addr = ? AND m.date >= ? AND m.id < ? "
            "AND m.conversation_id IS NOT ?",
            [sender, since, before_id, conversation_id],
        ).fetchone()[0]

    def earlier_in_case(self, conversation_id: int | None, before_id: int) -> int:
        """The customer's earlier messages in this conversation since our last reply (chasers)."""
        if conversation_id is None:
            return 0
        return self._exec(
            "SELECT count(*) FROM messages WHERE conversation_id = ? AND direction = 'in' AND automated IS NULL "
            "AND id < ? AND id > coalesce((SELECT max(id) FROM messages WHERE conversation_id = ? "
            "AND direction = 'out' AND id < ?), 0)",
            [conversation_id, before_id, conversation_id, before_id],
        ).fetchone()[0]

    def save_classification(self, pk: int, result: dict, thresholds: dict, now: datetime) -> int:
        """Record a classification as current; an earlier one stays as history."""
        with self.transaction():
            self._exec("UPDATE classifications SET current = 0 WHERE message_pk = ? AND current = 1", [pk])
            cursor = self._exec(
                "INSERT INTO classifications (message_pk, model_version, complaint, complaint_probability,"
                " severity, severity_probabilities, category, category_probabilities, reasons, thresholds,"
                " created_at, praise) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    pk, result["model_version"], int(result["complaint"]), result["complaint_probability"],
                    result["severity"], to_json(result["severity_probabilities"]), result["category"],
                    to_json(result["category_probabilities"]), to_json(result["reasons"]), to_json(thresholds), iso(now),
                    int(bool(result.get("praise"))),
                ],
            )
            # A new verdict: the message is considered for a draft again (messages_to_draft).
            self._exec("UPDATE messages SET classified_at = ?, routed_at = NULL WHERE id = ?", [iso(now), pk])
            return cursor.lastrowid

    def classifications(self, pk: int) -> list[dict]:
        """Newest first; the first is current."""
        rows = list(self.db.query(
            "SELECT * FROM classifications WHERE message_pk = ? ORDER BY current DESC, id DESC", [pk]))
        for row in rows:
            for key in ("severity_probabilities", "category_probabilities", "reasons", "thresholds"):
                row[key] = json.loads(row[key]) if row[key] else None
        return rows
