"""One customer's data, handed over (`amends customer export`) or erased (`amends customer
erase`), as data-protection law gives people the right to ask.

Erasing keeps the skeleton the team and the law still need (that a complaint came in on a date,
its labels, that it was answered and when) and each message's key, so the copy still in the
shared mailbox is recognised and never imported again; Amends never deletes mail on the server,
so the mailbox's own copy is the team's to delete. The audit log records the erasure by a hash
of the address, never the address itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from ..errors import AmendsError
from ..store import Store, iso


class CustomerError(AmendsError):
    pass


@dataclass(frozen=True)
class Holdings:
    """Where one customer's data is: their cases, the messages in them, the drafts to them."""

    address: str
    cases: list[int]
    messages: list[int]
    drafts: list[int]


def holdings(store: Store, address: str) -> Holdings:
    address = address.strip().lower()
    if "@" not in address or any(c.isspace() for c in address):
        raise CustomerError(f"{address!r} is not an email address")
    cases = store.customer_cases(address)
    messages = store.customer_message_ids(address, cases)
    drafts = [row["id"] for row in store.rows_where("drafts", "conversation_id", cases)]
    return Holdings(address, cases, messages, drafts)


def _text(rows: list[dict], column: str) -> list[dict]:
    for row in rows:
        if isinstance(row.get(column), bytes):
            row[column] = row[column].decode("utf-8", "replace")
    return rows


def export_customer(store: Store, address: str, now: datetime) -> dict:
    """Everything held about ``address``, as one JSON-ready document."""
    held = holdings(store, address)
    raws = {row["message_pk"]: row["raw"] for row in store.rows_where("raw_messages", "message_pk", held.messages)}
    messages = store.rows_where("messages", "id", held.messages)
    for message in messages:
        message["raw"] = raws.get(message["id"], b"").decode("utf-8", "replace")
    return {
        "address": held.address,
        "exported_at": iso(now),
        "conversations": store.rows_where("conversations", "id", held.cases),
        "messages": messages,
        "classifications": store.rows_where("classifications", "message_pk", held.messages),
        "label_corrections": store.rows_where("label_corrections", "message_pk", held.messages),
        "drafts": store.rows_where("drafts", "id", held.drafts),
        "outbox": _text(store.rows_where("outbox", "conversation_id", held.cases), "raw"),
        "jobs": store.rows_where("jobs", "conversation_id", held.cases),
        "surveys": store.rows_where("surveys", "conversation_id", held.cases),
        "commitments": store.rows_where("commitments", "conversation_id", held.cases),
    }


def erase_customer(store: Store, address: str, by: str, now: datetime) -> dict[str, int]:
    """Erase what is held about ``address``, in one transaction with its audit entry."""
    held = holdings(store, address)
    if not held.messages and not held.cases:
        raise CustomerError(f"nothing is held about {held.address}")
    counts = {"conversations": len(held.cases), "messages": len(held.messages), "drafts": len(held.drafts),
              "corrections": len(store.rows_where("label_corrections", "message_pk", held.messages))}
    with store.transaction():
        store.erase_customer_rows(held.cases, held.messages, held.drafts, f"customer data erased ({iso(now)})")
        store.audit(by, "erased customer", "customer", None,
                    {"address_sha256": hashlib.sha256(held.address.encode()).hexdigest(), **counts}, now)
    return counts
