"""Parsing mail that anyone may have sent: bounded in time, and on every core for a backlog.

Kept apart from ``ingest`` (which saves what is parsed) so that a parse process imports only
the parser and the guard: a spawned process starts in a fraction of the time.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .guard import automated_reason
from .parse import ParsedMessage, UnparseableMessage, parse_message
from .store_base import iso

if TYPE_CHECKING:
    from .config import Config

log = logging.getLogger(__name__)


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


def parse_one(pk: int, size: int, raw: bytes, limit: int, budget: float) -> ParsedMessage | str:
    """The parsed message, or the reason it goes to quarantine. Pure, so that it can run in a
    parse process as well as here."""
    if size > limit:
        return f"too large: {size:,} bytes, limit imap.max_message_bytes = {limit:,}"
    try:
        with time_budget(budget):
            return parse_message(raw)
    except OverBudget:
        log.warning("message %s took over %g s to parse; quarantined, the others go on", pk, budget)
        return f"too slow: parsing took over {budget:g} s (imap.parse_budget_seconds)"
    except UnparseableMessage as exc:
        return str(exc)
    except Exception as exc:  # a parser bug must cost one message, not the worker
        log.exception("parser error on message %s", pk)
        return f"parser error {type(exc).__name__}: {exc}"


Work = list[tuple[dict, bytes]]  # (message meta, raw bytes) of messages to parse


@dataclass(frozen=True)
class Rules:
    """What parsing needs besides the bytes (plain values: it travels to parse processes)."""

    max_bytes: int
    budget: float
    own_addresses: frozenset[str]

    @classmethod
    def of(cls, config: Config) -> "Rules":
        return cls(config.imap.max_message_bytes, config.imap.parse_budget_seconds, config.own_addresses)


@dataclass(frozen=True)
class Ready:
    """A parsed message as the store takes it, worked out where it was parsed: its columns
    (lists already JSON), when it was received, whether its headers make it machine mail (the
    sender-rate rule needs the store, so it is left for later), and what it answers."""

    fields: dict
    received: datetime
    reason: str | None
    thread_ids: tuple[str, ...]


def _received(meta: dict, parsed: ParsedMessage, now: datetime) -> datetime:
    if parsed.date is not None:
        return parsed.date
    if meta.get("internal_date"):
        return datetime.fromisoformat(meta["internal_date"])
    return now


def ready(meta: dict, parsed: ParsedMessage, rules: Rules, now: datetime) -> Ready:
    received = _received(meta, parsed, now)
    listed = {"to_addrs": list(parsed.to), "cc_addrs": list(parsed.cc), "refs": list(parsed.references),
              "attachments": [a.__dict__ for a in parsed.attachments]}
    fields = {
        "from_addr": parsed.from_addr,
        "from_name": parsed.from_name,
        "reply_to": parsed.reply_to,
        "subject": parsed.subject,
        "date": iso(received),
        "in_reply_to": parsed.in_reply_to,
        "text": parsed.text,
        "new_text": parsed.new_text,
        "signature": parsed.signature,
        **{key: json.dumps(value, ensure_ascii=False) if value else "[]" for key, value in listed.items()},
    }
    return Ready(fields, received, automated_reason(parsed, rules.own_addresses), tuple(parsed.thread_ids()))


def parse_all(work: Work, rules: Rules, now: datetime) -> list[Ready | str]:
    """Each message ready to save, or the reason it goes to quarantine."""
    out: list[Ready | str] = []
    for meta, raw in work:
        parsed = parse_one(meta["id"], meta["size"], raw, rules.max_bytes, rules.budget)
        out.append(parsed if isinstance(parsed, str) else ready(meta, parsed, rules, now))
    return out


class ParsePool:
    """Parses a big backlog on every core: parsing is most of the work of a first import.

    Processes are spawned, not forked (the worker has threads, and a fork copies their locks),
    and take a chunk at a time. A parse process that dies (a C library crashing on hostile
    mail) costs its chunk a second, in-process try, never the pass.
    """

    def __init__(self, workers: int) -> None:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        self.workers = workers
        self.executor = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))

    def submit(self, work: Work, rules: Rules, now: datetime):
        return self.executor.submit(parse_all, work, rules, now)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
