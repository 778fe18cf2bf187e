"""Claims: one process at a time sends an outbox row or runs a job, however many share the database.

A claim is a lease written with one conditional UPDATE: it names its owner, a token of its own
and an expiry, and succeeds only when the row is unclaimed, its lease has run out, or its owner
is a process of this host that no longer exists (a worker killed mid-send need not make the
next one wait out the lease).

Leases are measured on the store's clock, never the caller's: `amends jobs run-due --now`
a month ahead, or a host whose clock runs fast, must not see a live claim as expired. And a
lease can run out under a holder that is merely slow (paused, swapped out): so every write
that comes before a side effect names the claim (``held``), and a holder whose claim was taken
over finds its write refused and stops before the side effect.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .database import Store

TABLES = ("outbox", "jobs")


def new_owner() -> str:
    """host:pid:nonce; the nonce tells this process from an earlier one that had the same pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


OWNER = new_owner()


class LostClaim(Exception):
    """Another process took the row over (this one's lease ran out): it must not act on it."""


@dataclass(frozen=True)
class Claim:
    table: str
    row_id: int
    owner: str
    token: str
    lease: timedelta

    def held(self) -> tuple[str, list]:
        """A WHERE condition (and its parameters) true only while this claim holds the row."""
        return "claimed_by = ? AND claim_token = ? AND claimed_until > " + Store.NOW_SQL, [self.owner, self.token]


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


def claim(store: Store, table: str, row_id: int, lease: timedelta, owner: str = OWNER) -> Claim | None:
    """Take the row for ``lease`` (on the store's clock); None when another live process holds it.

    Each claim has a token of its own, so even a second claim by the same owner makes the
    first one's writes fail."""
    assert table in TABLES
    token = uuid.uuid4().hex
    until = store.now_plus_sql(lease)
    taken = store._exec(
        f"UPDATE {table} SET claimed_by = ?, claim_token = ?, claimed_until = {until} WHERE id = ? AND "
        f"(claimed_by IS NULL OR claimed_until <= {store.NOW_SQL})",
        [owner, token, row_id]).rowcount
    if not taken:
        row = store._exec(f"SELECT claimed_by FROM {table} WHERE id = ?", [row_id]).fetchone()
        if row is None or row[0] is None or not _gone(row[0]):
            return None
        taken = store._exec(
            f"UPDATE {table} SET claimed_by = ?, claim_token = ?, claimed_until = {until} WHERE id = ? AND claimed_by = ?",
            [owner, token, row_id, row[0]]).rowcount
    return Claim(table, row_id, owner, token, lease) if taken else None


def renew(store: Store, held: Claim, only_if: str = "", **values: object) -> None:
    """Write ``values`` to the row and extend the lease, only if the claim still holds it (and
    the row meets ``only_if``, SQL of ours); raises ``LostClaim`` otherwise. Call it before
    each side effect."""
    condition, params = held.held()
    if only_if:
        condition += f" AND {only_if}"
    assignments = "".join(f", {key} = ?" for key in values)
    changed = store._exec(
        f"UPDATE {held.table} SET claimed_until = {store.now_plus_sql(held.lease)}{assignments} "
        f"WHERE id = ? AND {condition}", [*values.values(), held.row_id, *params]).rowcount
    if not changed:
        raise LostClaim(f"{held.table} row {held.row_id} was taken over by another process")


def release(store: Store, held: Claim) -> None:
    store._exec(f"UPDATE {held.table} SET claimed_by = NULL, claim_token = NULL, claimed_until = NULL "
                "WHERE id = ? AND claimed_by = ? AND claim_token = ?", [held.row_id, held.owner, held.token])


@contextmanager
def claimed(store: Store, table: str, row_id: int, lease: timedelta) -> Iterator[Claim | None]:
    """The claim this process holds on the row for the block (None: another process has it);
    released after it. The claim is synced to disk before the block's side effects start."""
    with store.durable():
        held = claim(store, table, row_id, lease)
    if held is None:
        yield None
        return
    try:
        yield held
    finally:
        release(store, held)
