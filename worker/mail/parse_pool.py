"""Parsing mail that anyone may have sent: bounded in time, and on every core for a backlog.

Kept apart from ``ingest`` (which saves what is parsed) so that a parse process imports only
the parser and the guard: a spawned process starts in a fraction of the time.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import logging
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..failpoints import failpoint
from ..store.base import iso
from .guard import automated_reason
from .parse import ParsedMessage, UnparseableMessage, parse_message

if TYPE_CHECKING:
    from ..config import Config

log = logging.getLogger(__name__)


class OverBudget(BaseException):
    """BaseException, so that the parsers' own ``except Exception`` fallbacks cannot swallow it."""


class Watchdog:
    """Raises OverBudget in a message's parse once its budget has passed.

    The SIGALRM handler is installed once for a run of messages (``with Watchdog(seconds)``)
    and each message only arms the timer: installing a handler costs more than parsing a
    header. A timer signal interrupts Python code (the email package, the HTML walk) but not
    a single call into C that never returns to Python; the linear patterns and bounded inputs
    are the defence there. Signals reach the main thread only, so elsewhere this only watches.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.active = False
        self.fired = False
        self._previous = None

    def _expire(self, _signum, _frame) -> None:
        self.fired = True
        raise OverBudget

    def __enter__(self) -> "Watchdog":
        self.active = threading.current_thread() is threading.main_thread()
        if self.active:
            self._previous = signal.signal(signal.SIGALRM, self._expire)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)

    def arm(self) -> None:
        self.fired = False
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def disarm(self) -> None:
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if self.fired:  # raised inside a GC callback or __del__, where Python swallows it: it still overran
            raise OverBudget


def parse_one(pk: int, size: int, raw: bytes, limit: int, watchdog: Watchdog) -> ParsedMessage | str:
    """The parsed message, or the reason it goes to quarantine. Pure, so that it can run in a
    parse process as well as here."""
    if size > limit:
        return f"too large: {size:,} bytes, limit imap.max_message_bytes = {limit:,}"
    try:
        watchdog.arm()
        try:
            parsed = parse_message(raw)
        finally:
            watchdog.disarm()
        return parsed
    except OverBudget:
        budget = watchdog.seconds
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
    with Watchdog(rules.budget) as watchdog:
        for meta, raw in work:
            parsed = parse_one(meta["id"], meta["size"], raw, rules.max_bytes, watchdog)
            out.append(parsed if isinstance(parsed, str) else ready(meta, parsed, rules, now))
    return out


@dataclass
class _Slot:
    work: Work
    future: Future | None = None  # with the pool
    results: list[Ready | str] | None = None  # parsed here


def parse_in_order(works: Iterable[Work], rules: Rules, now: datetime, pool: ParsePool | None = None,
                   ahead: int = 8, here: bool = True) -> Iterator[tuple[Work, list[Ready | str]]]:
    """Each batch with its results, in order, parsed by the pool's processes or here.

    The processes take batches from the front, two each at a time; while the next batch to
    yield is still with them, this process parses the furthest batch nobody has started. Both
    ends work towards the middle, so every core stays busy whatever the mix of mail, and no
    batch is parsed twice. Nothing handed to the pool is taken back: on Python before 3.12 a
    cancelled future breaks the pool's clean-up after a process dies. With ``here`` false
    (a thread, where the time budget cannot hold) only the pool parses, unless it breaks.
    """
    works = iter(works)
    window: deque[_Slot] = deque()
    size = 1 + ahead * (pool.workers if pool else 0)
    while True:
        for work in itertools.islice(works, size - len(window)):
            window.append(_Slot(work))
        if not window:
            return
        head = window[0]
        while head.results is None:
            if pool is not None:
                _feed(pool, window, rules, now)
            if head.future is None:  # no pool, or a broken one
                head.results = parse_all(head.work, rules, now)
            elif head.future.done() or not here:
                break
            else:
                furthest = next((slot for slot in reversed(window) if slot.future is None and slot.results is None), None)
                if furthest is None:
                    break  # all of it is with the processes: wait for the head
                furthest.results = parse_all(furthest.work, rules, now)
        window.popleft()
        yield head.work, _results(head, rules, now)


def _feed(pool: ParsePool, window: deque[_Slot], rules: Rules, now: datetime) -> None:
    """Hand the foremost batches nobody has started to the pool, two per process."""
    busy = sum(1 for slot in window if slot.future is not None and not slot.future.done())
    for slot in window:
        if busy >= 2 * pool.workers:
            return
        if slot.future is None and slot.results is None:
            slot.future = pool.submit(slot.work, rules, now)
            if slot.future is None:
                return
            busy += 1


def _results(slot: _Slot, rules: Rules, now: datetime) -> list[Ready | str]:
    if slot.results is not None:
        return slot.results
    try:
        return slot.future.result()
    except BrokenProcessPool:
        log.warning("a parse process died on a batch of %d messages; parsing them here instead", len(slot.work))
        return parse_all(slot.work, rules, now)


class ParsePool:
    """Parses a big backlog on every core: parsing is most of the work of a first import.

    Processes are spawned, not forked (the worker has threads, and a fork copies their locks),
    and take a batch at a time. They run in the background scheduling class, so a backlog
    yields the CPU to intake, to the other mailboxes and to the review pages. A parse process
    that dies (a C library crashing on hostile mail) costs its batch a second, in-process try,
    never the pass.
    """

    def __init__(self, workers: int) -> None:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        self.workers = workers
        self.broken = False  # a process died: this pool takes no more work
        self.executor = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=in_background,
                                            initargs=(os.getpid(),))
        with _SPAWNING, _main_module_hidden():  # every process starts now, while it is hidden
            for _ in range(workers):
                self.executor.submit(int).add_done_callback(_note_ready)

    def submit(self, work: Work, rules: Rules, now: datetime) -> Future | None:
        """The batch's future, or None when the pool is broken: then it is parsed here."""
        try:
            future = self.executor.submit(_parse_in_process, work, rules, now)
        except BrokenProcessPool:
            self.broken = True
            return None
        future.add_done_callback(self._note_death)
        return future

    def _note_death(self, future: Future) -> None:
        if not future.cancelled() and isinstance(future.exception(), BrokenProcessPool):
            self.broken = True

    def close(self) -> None:
        # Before Python 3.11.5 a broken pool's shutdown waits for ever to write to a pipe that
        # only its dead processes read (gh-94777). Our end of that pipe is never read here (the
        # processes have their own), so closing it, as 3.11.5 does, is safe on every version.
        self.executor._call_queue._reader.close()
        self.executor.shutdown(wait=True)  # at most two batches a process are still with it


def _note_ready(warm_up: Future) -> None:
    if not warm_up.cancelled() and warm_up.exception() is None:
        log.debug("a parse process is ready")


def _parse_in_process(work: Work, rules: Rules, now: datetime) -> list[Ready | str]:
    failpoint("parse-process")
    return parse_all(work, rules, now)


PR_SET_PDEATHSIG = 1  # prctl(2)


def in_background(worker_pid: int) -> None:
    """Only the CPU time nobody else wants: Linux's SCHED_IDLE, else the lowest priority. And
    on Linux, go when the worker goes: a worker killed with SIGKILL cannot stop its parse
    processes, and they would wait for work for ever."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        if os.getppid() != worker_pid:  # it was gone before we asked
            os._exit(0)
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)


_SPAWNING = threading.Lock()  # __main__ is one per process: the mailboxes' threads hide it in turn


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start spawned processes without re-running the program's main module in them.

    A spawned process imports ``__main__`` again (the whole CLI, numpy with it: about 0.4 s of
    CPU taken from intake), and a script without an ``if __name__ == "__main__"`` guard would
    start its work over in it. A parse process needs only this module, which the pickled
    function names.
    """
    main = sys.modules["__main__"]
    saved = {name: getattr(main, name) for name in ("__spec__", "__file__") if hasattr(main, name)}
    main.__spec__ = None
    if hasattr(main, "__file__"):
        del main.__file__
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(main, name, value)
