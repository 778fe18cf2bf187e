"""From stored raw bytes to a parsed, guarded, threaded message, or to quarantine.

Runs only on messages whose raw bytes are already committed, so any failure here (a parser
bug, a crash, a kill) loses nothing: the message stays ``new`` and is processed again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .config import Config
from .conversations import assign_conversation
from .guard import automated_reason
from .parse import ParsedMessage
from .parsing import Work, parse_all
from .store import Store, iso

log = logging.getLogger(__name__)


@dataclass
class IngestCounts:
    parsed: int = 0
    automated: int = 0
    quarantined: int = 0
    ids: list[int] = field(default_factory=list)

    def add(self, other: "IngestCounts") -> None:
        self.parsed += other.parsed
        self.automated += other.automated
        self.quarantined += other.quarantined
        self.ids.extend(other.ids)


def _received(meta: dict, parsed: ParsedMessage, now: datetime) -> datetime:
    if parsed.date is not None:
        return parsed.date
    if meta.get("internal_date"):
        return datetime.fromisoformat(meta["internal_date"])
    return now


def _fields(parsed: ParsedMessage, received: datetime) -> dict:
    return {
        "from_addr": parsed.from_addr,
        "from_name": parsed.from_name,
        "reply_to": parsed.reply_to,
        "to_addrs": list(parsed.to),
        "cc_addrs": list(parsed.cc),
        "subject": parsed.subject,
        "date": iso(received),
        "in_reply_to": parsed.in_reply_to,
        "refs": list(parsed.references),
        "text": parsed.text,
        "new_text": parsed.new_text,
        "signature": parsed.signature,
        "attachments": [a.__dict__ for a in parsed.attachments],
    }


def to_parse(store: Store, ids: list[int], raws: dict[int, bytes] | None = None) -> Work:
    """The messages among ``ids`` still waiting, with their bytes: just fetched, or read back."""
    raws = raws or {}
    return [(meta, raws.pop(meta["id"], None) or store.raw(meta["id"]))
            for meta in store.messages_meta(ids) if meta["state"] == "new"]


def save_all(store: Store, config: Config, work: Work, results: list[ParsedMessage | str], now: datetime) -> IngestCounts:
    """Save parsed messages in one transaction: guard, thread, record; quarantine the rest."""
    counts = IngestCounts()
    limit = config.guard.sender_limit_per_hour
    own = config.own_addresses
    with store.transaction():
        for (meta, _), parsed in zip(work, results):
            pk = meta["id"]
            if isinstance(parsed, str):
                store.quarantine(pk, parsed)
                log.warning("message %s quarantined: %s", pk, parsed)
                counts.quarantined += 1
                continue
            received = _received(meta, parsed, now)
            recent = 0
            if parsed.from_addr and limit:
                since = iso(received - timedelta(hours=1))
                recent = store.count_from_sender(parsed.from_addr, since, pk, limit)
            reason = automated_reason(parsed, own, recent, limit)
            conversation = assign_conversation(
                store, parsed, received, config.threading.subject_window_days
            )
            store.save_parsed(
                pk,
                dict(_fields(parsed, received), automated=reason, conversation_id=conversation),
                now,
            )
            counts.parsed += 1
            counts.ids.append(pk)
            if reason:
                counts.automated += 1
                log.info("message %s from %s is automated: %s", pk, parsed.from_addr, reason)
    return counts


def process_messages(store: Store, config: Config, ids: list[int], now: datetime,
                     raws: dict[int, bytes] | None = None) -> IngestCounts:
    """Parse stored messages here, then save them all in one transaction.

    One bad message is quarantined with its reason, never raised. Parsing happens before the
    transaction so the write lock is held only for the short SQL part. ``raws`` are bytes
    just fetched (the same as stored), so they need not be read back.
    """
    work = to_parse(store, ids, raws)
    return save_all(store, config, work, parse_all(work, config.imap.max_message_bytes,
                                                   config.imap.parse_budget_seconds), now)


def process_pending(store: Store, config: Config, now: datetime) -> IngestCounts:
    return process_messages(store, config, store.pending_ids(), now)
