"""Claims: one process at a time sends an outbox row or runs a job, however many share the database.

A claim is a lease written with one conditional UPDATE: it names its owner and an expiry, and
succeeds only when the row is unclaimed, its lease has run out, or its owner is a process of
this host that no longer exists (a worker killed mid-send need not make the next one wait out
the lease). Nothing here is SQLite-specific: the same statement works on a server database.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from .store import Store, iso

TABLES = ("outbox", "jobs")


def new_owner() -> str:
    """host:pid:nonce; the nonce tells this process from an earlier one that had the same pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _gone(owner: str) -> bool:
    """Whether a claim's owner is a process of this host that has exited."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return owner != OWNER  # our pid with another nonce: an earlier process, gone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # killed but not yet reaped by its parent: gone all the same
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


OWNER = new_owner()


def claim(store: Store, table: str, row_id: int, now: datetime, lease: timedelta, owner: str = OWNER) -> bool:
    """Take the row for ``lease``; False when another live process holds it."""
    assert table in TABLES
    until = iso(now + lease)
    taken = store._exec(
        f"UPDATE {table} SET claimed_by = ?, claimed_until = ? WHERE id = ? AND "
        "(claimed_by IS NULL OR claimed_by = ? OR claimed_until <= ?)",
        [owner, until, row_id, owner, iso(now)]).rowcount
    if taken:
        return True
    row = store._exec(f"SELECT claimed_by FROM {table} WHERE id = ?", [row_id]).fetchone()
    if row is None or row[0] is None or not _gone(row[0]):
        return False
    return bool(store._exec(
        f"UPDATE {table} SET claimed_by = ?, claimed_until = ? WHERE id = ? AND claimed_by = ?",
        [owner, until, row_id, row[0]]).rowcount)


def release(store: Store, table: str, row_id: int, owner: str = OWNER) -> None:
    assert table in TABLES
    store._exec(f"UPDATE {table} SET claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?",
                [row_id, owner])


@contextmanager
def claimed(store: Store, table: str, row_id: int, now: datetime, lease: timedelta) -> Iterator[bool]:
    """Whether this process holds the row for the block; released after it. The claim is
    synced to disk before the block's side effects (an SMTP send) start."""
    with store.durable():
        taken = claim(store, table, row_id, now, lease)
    if not taken:
        yield False
        return
    try:
        yield True
    finally:
        release(store, table, row_id)
