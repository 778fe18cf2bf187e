"""From stored raw bytes to a parsed, guarded, threaded message, or to quarantine.

Runs only on messages whose raw bytes are already committed, so any failure here (a parser
bug, a crash, a kill) loses nothing: the message stays ``new`` and is processed again.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .config import Config
from .conversations import assign_conversation
from .guard import automated_reason
from .parse import ParsedMessage, UnparseableMessage, parse_message
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


class OverBudget(BaseException):
    """BaseException, so that the parsers' own ``except Exception`` fallbacks cannot swallow it."""


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise OverBudget in this block once ``seconds`` have passed.

    A timer signal interrupts Python code (the email package, the HTML walk) but not a single
    call into C that never returns to Python; the linear patterns and bounded inputs are the
    defence there. Signals reach the main thread only, so elsewhere this only watches.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    fired = False

    def expire(_signum, _frame):
        nonlocal fired
        fired = True
        raise OverBudget

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if fired:  # raised inside a GC callback or __del__, where Python swallows it: the block still overran
        raise OverBudget


def _parse(store: Store, config: Config, meta: dict) -> ParsedMessage | str:
    """The parsed message, or the reason it goes to quarantine."""
    limit = config.imap.max_message_bytes
    if meta["size"] > limit:
        return f"too large: {meta['size']:,} bytes, limit imap.max_message_bytes = {limit:,}"
    budget = config.imap.parse_budget_seconds
    try:
        with time_budget(budget):
            return parse_message(store.raw(meta["id"]))
    except OverBudget:
        log.warning("message %s took over %g s to parse; quarantined, the others go on", meta["id"], budget)
        return f"too slow: parsing took over {budget:g} s (imap.parse_budget_seconds)"
    except UnparseableMessage as exc:
        return str(exc)
    except Exception as exc:  # a parser bug must cost one message, not the worker
        log.exception("parser error on message %s", meta["id"])
        return f"parser error {type(exc).__name__}: {exc}"


def process_messages(store: Store, config: Config, ids: list[int], now: datetime) -> IngestCounts:
    """Parse stored messages, then save them all in one transaction.

    One bad message is quarantined with its reason, never raised. Parsing happens before the
    transaction so the write lock is held only for the short SQL part.
    """
    counts = IngestCounts()
    results = []
    for pk in ids:
        meta = store.message_meta(pk)
        if meta is not None and meta["state"] == "new":
            results.append((meta, _parse(store, config, meta)))
    limit = config.guard.sender_limit_per_hour
    with store.transaction():
        for meta, parsed in results:
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
                recent = store.count_from_sender(parsed.from_addr, since, pk)
            reason = automated_reason(parsed, config.own_addresses, recent, limit)
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


def process_pending(store: Store, config: Config, now: datetime) -> IngestCounts:
    return process_messages(store, config, store.pending_ids(), now)
