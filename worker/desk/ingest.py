"""From stored raw bytes to a parsed, guarded, threaded message, or to quarantine.

Runs only on messages whose raw bytes are already committed, so any failure here (a parser
bug, a crash, a kill) loses nothing: the message stays ``new`` and is processed again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..config import Config
from ..mail.guard import rate_reason
from ..mail.parse_pool import Ready, Rules, Work, parse_all
from ..store import Store, iso
from .conversations import assign_conversation

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


def to_parse(store: Store, ids: list[int], raws: dict[int, bytes] | None = None) -> Work:
    """The messages among ``ids`` still waiting, with their bytes: just fetched, or read back."""
    raws = raws or {}
    return [(meta, raws.pop(meta["id"], None) or store.raw(meta["id"]))
            for meta in store.messages_meta(ids) if meta["state"] == "new"]


def save_all(store: Store, config: Config, work: Work, results: list[Ready | str], now: datetime) -> IngestCounts:
    """Save parsed messages in one transaction: the sender-rate guard, the thread, the record;
    quarantine the rest."""
    counts = IngestCounts()
    limit = config.guard.sender_limit_per_hour
    parsed_at = iso(now)
    with store.transaction():
        for (meta, _), result in zip(work, results):
            pk = meta["id"]
            if isinstance(result, str):
                store.quarantine(pk, result)
                log.warning("message %s quarantined: %s", pk, result)
                counts.quarantined += 1
                continue
            sender = result.fields["from_addr"]
            reason = result.reason
            if reason is None and sender and limit:
                since = iso(result.received - timedelta(hours=1))
                reason = rate_reason(sender, store.count_from_sender(sender, since, pk, limit), limit)
            conversation = assign_conversation(store, result.thread_ids, result.fields["subject"], sender,
                                               result.received, config.threading.subject_window_days, meta["mailbox"])
            store.save_parsed(pk, dict(result.fields, automated=reason, conversation_id=conversation), parsed_at)
            counts.parsed += 1
            counts.ids.append(pk)
            if reason:
                counts.automated += 1
                log.info("message %s from %s is automated: %s", pk, sender, reason)
    return counts


def process_messages(store: Store, config: Config, ids: list[int], now: datetime,
                     raws: dict[int, bytes] | None = None) -> IngestCounts:
    """Parse stored messages here, then save them all in one transaction.

    One bad message is quarantined with its reason, never raised. Parsing happens before the
    transaction so the write lock is held only for the short SQL part. ``raws`` are bytes
    just fetched (the same as stored), so they need not be read back.
    """
    work = to_parse(store, ids, raws)
    return save_all(store, config, work, parse_all(work, Rules.of(config), now), now)

