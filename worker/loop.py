"""The worker: the one place that wires the stages together and talks to the clock.

A ``Worker`` serves one mailbox. Its ``tick(now)`` reads new mail from the mailbox's folders,
runs the desk's stages, and sends what the mailbox has to send. ``run`` calls ``tick`` forever,
waits with IDLE between ticks (woken early when a person approves a reply or a job falls due),
and survives the network: any connection error is logged and followed by a reconnect with
exponential backoff; an expired sign-in waits for a person. ``run_desk`` runs one worker per
mailbox, side by side.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from schedule import Scheduler

from .config import Config
from .desk import elsewhere, history
from .desk.detect import ActiveModel, classify_pending
from .desk.ingest import IngestCounts, save_all, to_parse
from .desk.jobs import JobCounts, JobRunner, record_survey_replies, schedule
from .desk.outbox import Sender, SendSummary
from .desk.review import DraftCounts, draft_pending
from .errors import AmendsError, MailboxError, ModelError, WorkerStopped, store_problem
from .failpoints import failpoint
from .mail.inbox import TRANSIENT, Inbox
from .mail.oauth import SignInNeeded, tokens_for
from .mail.parse import sniff_message_id
from .mail.parse_pool import ParsePool, Rules, parse_in_order
from .store import Store, utcnow

if TYPE_CHECKING:
    from classifiers.model import Classifier

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
RAW_CACHE_BYTES = 64 * 1024 * 1024  # fetched bytes kept in memory (or handed to parsing), per folder pass
SIGN_IN_CHECK_SECONDS = 60
PARALLEL_FROM = 1_000  # messages in one pass: from here, parse processes pay for their start-up


@dataclass
class PollSummary:
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    folders: dict[str, int] = field(default_factory=dict)
    ingest: IngestCounts = field(default_factory=IngestCounts)
    classified: int = 0
    drafts: DraftCounts = field(default_factory=DraftCounts)
    sending: SendSummary = field(default_factory=SendSummary)
    jobs: JobCounts = field(default_factory=JobCounts)


class Backoff:
    """Exponential backoff with full jitter, so a fleet of workers does not reconnect in step."""

    def __init__(self, maximum: float, base: float = 1.0, rng: random.Random | None = None) -> None:
        self.maximum, self.base, self.attempt = maximum, base, 0
        self.rng = rng or random.Random()

    def next(self) -> float:
        ceiling = min(self.maximum, self.base * 2**self.attempt)
        self.attempt += 1
        return self.rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0


class Worker:
    def __init__(
        self,
        config: Config,
        store: Store,
        inbox: Inbox | None = None,
        progress: Progress | None = None,
        classifier: "Classifier | None" = None,
        desk_lock: threading.Lock | None = None,
    ) -> None:
        self.config = config
        self.box = config.mailbox_name
        self.store = store
        self.tokens = tokens_for(config, store)
        # The stages that are not one mailbox's (detect, draft, schedule, jobs) run in one
        # mailbox's worker at a time when a desk has several.
        self.desk_lock = desk_lock or threading.Lock()
        self.inbox = inbox or Inbox(config, self.tokens)
        self.progress = progress
        self._history_known = False
        self._fixed_classifier = classifier
        self._active_model = ActiveModel(config)
        self._model_warned = False
        self.sender = Sender(config, store, self.inbox)
        self.jobs = JobRunner(config, store)
        self._parse_process: ParsePool | None = None  # see _ingest

    @property
    def classifier(self) -> "Classifier | None":
        """The active model, switched when ACTIVE changes; without one, messages wait
        unclassified (warned once)."""
        if self._fixed_classifier is not None:
            return self._fixed_classifier
        try:
            return self._active_model.get()
        except ModelError as exc:
            if not self._model_warned:
                log.warning("%s; messages are stored but not classified until then", exc)
                self._model_warned = True
            return None

    # -- one pass ---------------------------------------------------------------------------

    def poll_folder(self, folder: str, now: datetime, summary: PollSummary) -> None:
        uidvalidity = self.inbox.select(folder)
        box = self.store.mailbox(folder, self.box)
        if box is None or box["uidvalidity"] != uidvalidity:
            if box is not None and box["uidvalidity"] is not None:
                log.warning(
                    "%s: UIDVALIDITY changed from %s to %s; re-reading the folder "
                    "(messages already stored are recognised by Message-ID)",
                    folder, box["uidvalidity"], uidvalidity,
                )
            self.store.reset_mailbox(folder, uidvalidity, self.box)
            after = 0
        else:
            after = box["last_uid"]
        uids = self.inbox.new_uids(after)
        if self.progress:
            self.progress(f"Reading {folder}", 0, len(uids))
        backlog = self._backlog_pool(len(uids))
        try:
            batches, raws = self._intake(folder, uidvalidity, uids, now, summary)  # the pool starts meanwhile
            self._ingest(folder, batches, raws, now, summary, backlog)
        finally:
            if backlog is not None:
                backlog.close()
        self.store.record_check(folder, now, box=self.box)

    @staticmethod
    def _backlog_pool(count: int) -> ParsePool | None:
        workers = min(4, (os.cpu_count() or 1) - 1)  # this process keeps a core: it saves, and parses too
        return ParsePool(workers) if count >= PARALLEL_FROM and workers >= 1 else None

    def _intake(self, folder: str, uidvalidity: int, uids: list[int], now: datetime,
                summary: PollSummary) -> tuple[list[list[int]], dict[int, bytes]]:
        """Every new message's raw bytes, committed batch by batch, before any is parsed: durable
        intake is what decides whether mail can be lost, so it has the CPU to itself (parsing
        meanwhile, even in the background class, cost it a sixth of its speed for a twentieth
        off the whole). Returns the new ids per batch, and the bytes kept in memory for parsing
        (up to ``RAW_CACHE_BYTES``)."""
        imap = self.config.imap
        batches: list[list[int]] = []
        raws: dict[int, bytes] = {}
        kept = done = 0
        for batch in self.inbox.batches(uids, imap.batch_size, imap.max_message_bytes):
            pairs = [(fetched, sniff_message_id(fetched.raw)) for fetched in batch]
            new = self.store.store_batch(folder, uidvalidity, pairs, now, self.box)
            summary.fetched += len(batch)
            summary.new += len(new)
            summary.duplicates += len(batch) - len(new)
            if batch:
                log.debug("%s: stored a batch of %d (UIDs %d-%d), %d new",
                          folder, len(batch), batch[0].uid, batch[-1].uid, len(new))
            for pk, fetched in new:
                if kept + len(fetched.raw) <= RAW_CACHE_BYTES:  # beyond this, read back when parsed
                    raws[pk] = fetched.raw
                    kept += len(fetched.raw)
            if new:
                batches.append([pk for pk, _ in new])
            done += len(batch)
            if self.progress:
                self.progress(f"Reading {folder}", done, len(uids))
        summary.folders[folder] = done
        return batches, raws

    def _ingest(self, folder: str, batches: list[list[int]], raws: dict[int, bytes], now: datetime,
                summary: PollSummary, pool: ParsePool | None) -> None:
        """Parse (in the pool's processes and here) and save what a pass stored, in order.

        The time budget is a timer signal, which only the main thread gets: a worker in another
        thread (each mailbox of a desk has one) leaves all parsing to processes, and keeps one
        for its lifetime for the mail that comes in a little at a time."""
        here = threading.current_thread() is threading.main_thread()
        if not here and pool is None and batches:
            if self._parse_process is None or self._parse_process.broken:  # a new one after a crash
                self.close_parse_process()
                self._parse_process = ParsePool(1)
            pool = self._parse_process
        works = (to_parse(self.store, ids, raws) for ids in batches)
        total, done = sum(map(len, batches)), 0
        for work, results in parse_in_order(works, Rules.of(self.config), now, pool, here=here):
            summary.ingest.add(save_all(self.store, self.config, work, results, now))
            done += len(work)
            if self.progress:
                self.progress(f"Parsing {folder}", done, total)

    def poll(self, now: datetime) -> PollSummary:
        summary = PollSummary()
        if not self._history_known:  # what counts as history depends only on the config and the first connection
            history.connect(self.store, self.box, self.config.imap, now)
            self._history_known = True
        # Messages left half-way by a crash come first.
        pending, size = self.store.pending_ids(), self.config.imap.batch_size
        self._ingest("messages left by a stop", [pending[i : i + size] for i in range(0, len(pending), size)], {},
                     now, summary, None)
        self.poll_sent(now)  # first: the worker then waits on the last folder it read
        for folder in self.config.imap.folders:
            self.poll_folder(folder, now, summary)
        return summary

    def poll_sent(self, now: datetime) -> None:
        """Replies the team sent from another mail client (desk/elsewhere.py): the Sent folder's
        new headers, each batch recorded in the transaction that moves its cursor."""
        folder = self.config.imap.sent_folder
        if not folder or folder in self.config.imap.folders:
            return
        try:
            uidvalidity = self.inbox.select(folder, "imap.sent_folder")
        except MailboxError:
            return  # no Sent folder yet: nothing was sent
        box = self.store.mailbox(folder, self.box)
        if box is None or box["uidvalidity"] != uidvalidity:
            self.store.reset_mailbox(folder, uidvalidity, self.box)
            after = 0
        else:
            after = box["last_uid"]
        uids = self.inbox.new_uids(after)
        for start in range(0, len(uids), self.config.imap.batch_size):
            batch = uids[start : start + self.config.imap.batch_size]
            fetched = self.inbox.fetch(batch, headers_only=True)
            with self.store.transaction():
                found = elsewhere.record_replies(self.store, [f.raw for f in fetched], now)
                self.store.advance_cursor(folder, max(batch), self.box)
            if found.recorded:
                log.info("%s: %d reply(ies) sent from another mail client joined their cases, %d draft(s) superseded",
                         folder, found.recorded, found.superseded)

    def detect(self, now: datetime) -> int:
        classifier = self.classifier
        return classify_pending(self.store, classifier, self.config, now, self.progress) if classifier else 0

    def tick(self, now: datetime) -> PollSummary:
        """One pass of every stage: listen, detect, draft, send what people approved."""
        summary = self.poll(now)
        with self.desk_lock:
            record_survey_replies(self.store, self.config, now, summary.ingest.ids)
            summary.classified = self.detect(now)
            summary.drafts = draft_pending(self.store, self.config, now)
            summary.jobs = schedule(self.store, self.config, now)
            summary.jobs.done = self.jobs.run_due(now).done
        summary.sending = self.sender.send_due(now)  # this mailbox's outbox, from its address
        with self.desk_lock:
            summary.jobs.scheduled += schedule(self.store, self.config, now).scheduled  # for replies just sent
        return summary

    # -- forever --------------------------------------------------------------------------

    def _record_error(self, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}"
        for folder in self.config.imap.folders:
            try:
                self.store.record_check(folder, utcnow(), error=message, box=self.box)
            except Exception:
                log.exception("could not record the error")

    def _timers(self, clock: Callable[[], datetime]) -> Callable[[], bool]:
        """While waiting for mail, look in SQLite every ``smtp.check_seconds`` for work that
        came another way (a reply approved on the web page, a follow-up falling due).
        Returns the ``wake`` check for ``Inbox.wait``."""
        timers = Scheduler()
        due = threading.Event()
        timers.every(self.config.smtp.check_seconds).seconds.do(
            lambda: due.set() if self.store.work_due(clock()) else None)

        def wake() -> bool:
            timers.run_pending()
            if due.is_set():
                due.clear()
                log.debug("approved replies or due jobs are waiting: a pass now")
                return True
            return False

        return wake

    def _wait_for_sign_in(self, stop: threading.Event) -> None:
        """Until someone signs the mailbox in again (`amends auth login`): checked each minute."""
        before = self.store.token(self.box)
        while not stop.wait(SIGN_IN_CHECK_SECONDS):
            now = self.store.token(self.box)
            if now and now["state"] == "ok" and (before is None or now["updated_at"] != before["updated_at"]):
                log.info("mailbox %s is signed in again", self.box)
                return

    def run(self, stop: threading.Event, clock: Callable[[], datetime] = utcnow) -> None:
        try:
            self._serve(stop, clock)
        finally:
            self.close()
        log.info("worker stopped (mailbox %s)", self.box)

    def _serve(self, stop: threading.Event, clock: Callable[[], datetime]) -> None:
        imap = self.config.imap
        backoff = Backoff(imap.reconnect_max_seconds)
        wake = self._timers(clock)
        connected = False
        while not stop.is_set():
            try:
                if connected and self.tokens is not None and self.tokens.stale():
                    # Providers end a session when its token expires: sign in again before that.
                    log.info("mailbox %s: signing in again with a fresh token", self.box)
                    self.inbox.close()
                    connected = False
                if not connected:
                    self.inbox.connect()
                    connected = True
                summary = self.tick(clock())
                if summary.fetched:
                    log.info(
                        "stored %d new message(s) (%d automated, %d quarantined)",
                        summary.new, summary.ingest.automated, summary.ingest.quarantined,
                    )
                backoff.reset()
                folders = imap.folders
                # IDLE watches one folder; with several, the others are polled on each wake.
                failpoint("before-idle-select")
                self.inbox.select(folders[0])
                box = self.store.mailbox(folders[0], self.box)
                if box and self.inbox.new_uids(box["last_uid"]):
                    continue  # mail came in during the tick: IDLE would not announce it
                wait = imap.idle_seconds if len(folders) == 1 else min(imap.idle_seconds, imap.poll_seconds)
                if not self.inbox.can_idle:
                    wait = imap.poll_seconds
                if self.tokens is not None:
                    wait = max(1.0, min(wait, self.tokens.expires_in - self.tokens.margin + 0.5))
                self.inbox.wait(wait, stop, wake)
            except SignInNeeded as exc:
                self._record_error(exc)
                self.inbox.close()
                connected = False
                self._wait_for_sign_in(stop)
            except (*TRANSIENT, MailboxError) as exc:
                delay = backoff.next()
                log.warning("%s: IMAP trouble (%s: %s); reconnecting in %.1f s",
                            self.box, type(exc).__name__, exc, delay)
                self._record_error(exc)
                self.inbox.close()
                connected = False
                stop.wait(delay)
            except sqlite3.Error as exc:  # locked too long, disk full, a race lost to another worker
                delay = backoff.next()
                problem = store_problem(exc, self.config.store.path)
                log.warning("%s: %s; trying again in %.1f s", self.box, problem, delay)
                log.debug("store error", exc_info=True)
                self._rollback()
                self._record_error(exc)
                stop.wait(delay)

    def _rollback(self) -> None:
        """A transaction an error left open (SQLite keeps some open after a failed statement)."""
        try:
            if self.store.db.conn.in_transaction:
                self.store.db.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def close(self) -> None:
        """The IMAP connection and this worker's parse process, if it has one."""
        self.inbox.close()
        self.close_parse_process()

    def close_parse_process(self) -> None:
        if self._parse_process is not None:
            self._parse_process.close()
            self._parse_process = None


def run_desk(config: Config, stop: threading.Event, clock: Callable[[], datetime] = utcnow) -> None:
    """Every mailbox of the desk, each with its own IMAP connection (IDLE on each) and its own
    SQLite connection. A mailbox that fails (sign-in, network, the store) retries on its own
    backoff; the others go on. Several mailboxes get a thread each; one runs in this thread,
    because only the main thread can hold a message to its parse time budget (a timer signal).

    An error no retry can cure (a config problem, a bug) stops the whole desk and raises
    ``WorkerStopped``, so that `amends run` exits non-zero and a supervisor restarts it."""
    lock = threading.Lock()
    failures: list[str] = []

    def serve(box_config: Config) -> None:
        name = box_config.mailbox_name
        try:
            store = Store.open(box_config.store.path, box_config.store.busy_timeout_seconds)
        except sqlite3.Error as exc:
            failures.append(f"mailbox {name}: {store_problem(exc, box_config.store.path)}")
            stop.set()
            return
        try:
            Worker(box_config, store, desk_lock=lock).run(stop, clock)
        except AmendsError as exc:
            failures.append(f"mailbox {name}: {exc}")
            stop.set()
        except Exception as exc:  # a bug: one line for the person, the traceback for the log
            log.debug("the worker for mailbox %s stopped on an error", name, exc_info=True)
            failures.append(f"mailbox {name} stopped on an unexpected error ({type(exc).__name__}: {exc}); "
                            "run with log.level = \"debug\" for the traceback")
            stop.set()
        finally:
            store.close()

    for box in config.mailboxes:
        log.info("mailbox %s: %s on %s (folders: %s)", box.name, box.imap.username, box.imap.host,
                 ", ".join(box.imap.folders))
    if len(config.mailboxes) == 1:
        serve(config.for_mailbox(config.mailboxes[0].name))
    else:
        threads = [threading.Thread(target=serve, args=(config.for_mailbox(box.name),), name=f"mailbox-{box.name}",
                                    daemon=True) for box in config.mailboxes]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
    if failures:
        raise WorkerStopped("; ".join(failures) + "; fix that and start `amends run` again")
