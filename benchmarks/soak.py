"""Soak: mail keeps coming, people keep approving, and processes keep dying, pausing and
waiting on each other. Nothing may be lost or done twice, and no worker may quit.

    python benchmarks/soak.py [--minutes 5] [--workers 3] [--kill-every 2-5]

Against a private Dovecot and an SMTP sink, for N minutes:
- a feeder appends mail, about two messages a second: complaints, questions, auto-replies,
  bounces, hostile mail (deeply nested HTML, megabyte headers, a body of @), true copies of an
  earlier message, and other senders reusing an earlier Message-ID (web forms do);
- a reviewer approves every pending draft, once a second, as the web page does;
- W `amends run`, plus one-shot `amends send --once`, `amends jobs run-due` and
  `amends jobs run-due --now <30 days ahead>` (as the demo does beside a running worker) share
  one database; every 2-5 s one of them, chosen at random, is SIGKILLed (and the long-running
  ones restarted);
- now and then a one-shot sender stops itself just before SMTP connect or DATA while holding
  a reply, its lease is run out (as a pause longer than the lease would), another process
  takes the reply over, and then the paused one is let go;
- now and then another process holds the database's write lock for longer than the busy
  timeout.
Then the processes drain what is left, and the script prints what was appended, stored,
quarantined (with reasons), approved, delivered and delivered twice, how many jobs ran and ran
twice, and every process exit that was not a kill, with its code. It exits 1 unless nothing
was lost, nothing was delivered or run twice, no `amends run` ended on its own and nothing
crashed (a one-shot that meets the held lock exits 1 with one line, as a cron job should).
Needs an active model (`amends train`).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import sqlite3
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import imapclient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.labels import model_dir_version  # noqa: E402
from worker.config import load_config  # noqa: E402
from worker.demo.dovecot import Dovecot, free_port  # noqa: E402
from worker.desk.review import ReviewError, approve  # noqa: E402
from worker.demo.smtp_sink import SmtpSink  # noqa: E402
from worker.store import Store  # noqa: E402

COMPLAINTS = [
    "My order #{n} is two weeks late and nobody answers my emails. Very disappointed.",
    "You charged me twice for invoice INV-{n}. I want the duplicate refunded today or I'm leaving.",
    "The heater from order {n} sparked and burned my hand. This is dangerous.",
    "Third time this month the app logs me out mid-payment (account {n}). Fix it.",
]
QUESTIONS = ["Could you tell me your opening hours over Christmas? (ref {n})",
             "Thanks, the replacement for order {n} arrived this morning!"]


def message(n: int, rng: random.Random, earlier: list[bytes]) -> tuple[str, bytes]:
    """One message of the mix, with a Message-ID to find it by."""
    kind = rng.choices(["complaint", "question", "auto-reply", "bounce", "hostile", "copy", "reused id"],
                       [6, 2, 1, 1, 1, 1, 1])[0]
    if kind in ("copy", "reused id") and not earlier:
        kind = "complaint"
    if kind == "copy":
        return kind, rng.choice(earlier)
    mid = f"soak-{n}@customer.example"
    if kind == "reused id":
        mid = rng.choice(earlier).split(b"Message-ID: <", 1)[1].split(b">", 1)[0].decode()
    sender = f"customer{n % 40}@customer.example"
    headers = {"From": f"Customer {n % 40} <{sender}>", "To": "support@soak.amends.test",
               "Subject": f"Order {n}", "Message-ID": f"<{mid}>", "Date": "Mon, 30 Nov 2026 09:00:00 +0000"}
    body, ctype = rng.choice(COMPLAINTS if kind in ("complaint", "reused id") else QUESTIONS).format(n=n), "text/plain"
    if kind == "auto-reply":
        headers.update({"Auto-Submitted": "auto-replied", "Subject": "Out of office"})
    elif kind == "bounce":
        headers.update({"From": "MAILER-DAEMON <mailer-daemon@soak.example>", "Subject": "Undelivered Mail Returned to Sender"})
    elif kind == "hostile":
        variant = rng.randrange(3)
        if variant == 0:
            body, ctype = "<div>" * 50_000 + "help" + "</div>" * 50_000, "text/html"
        elif variant == 1:
            headers["To"] = "a" * 1_000_000
        else:
            body = "@" * 15_000
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return kind, f"{head}Content-Type: {ctype}; charset=utf-8\r\n\r\n{body}\r\n".encode()


def stopped(pid: int) -> bool:
    """Whether the process is stopped (SIGSTOP): the third field of /proc/PID/stat is T."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"
    except (OSError, IndexError):
        return False


class Soak:
    def __init__(self, minutes: float, workers: int, kill_every: tuple[float, float], seed: int) -> None:
        self.minutes, self.workers, self.kill_every = minutes, workers, kill_every
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.appended: Counter = Counter()
        self.approved = 0
        self.kills: Counter = Counter()
        self.exits: Counter = Counter()  # (command, code) of every exit that was not our kill
        self.pauses: Counter = Counter()
        self.locks = 0
        self.names: dict[subprocess.Popen, str] = {}

    def setup(self) -> None:
        model_dir = ROOT / load_config(str(ROOT / "config" / "demo.toml")).classifier.model_dir
        if model_dir_version(model_dir) is None:
            raise SystemExit("no active model: run `amends train` first")
        self.server = Dovecot.create()
        self.server.start()
        self.sink = SmtpSink(free_port()).start()
        self.work = Path(tempfile.mkdtemp(prefix="amends-soak."))
        os.environ["SOAK_IMAP_PASSWORD"] = self.server.password
        self.user = "support@soak.amends.test"
        self.config_path = self.work / "amends.toml"
        self.config_path.write_text(f"""
[imap]
host = "127.0.0.1"
port = {self.server.port}
security = "none"
username = "{self.user}"
password_env = "SOAK_IMAP_PASSWORD"
draft_since = "all"
max_message_bytes = 2000000
[store]
path = "{self.work / 'amends.db'}"
[guard]
sender_limit_per_hour = 100000
[classifier]
model_dir = "{model_dir}"
[smtp]
host = "127.0.0.1"
port = {self.sink.port}
security = "none"
from_address = "support@soak.amends.test"
check_seconds = 1
[followup]
leadership = ["boss@soak.amends.test"]
[drafts]
templates_dir = "{ROOT / 'templates' / 'replies'}"
[log]
level = "WARNING"
""")
        self.config = load_config(str(self.config_path))
        Store.open(self.config.store.path).close()  # migrate once, before anyone races to

    def spawn(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.work / "processes.log", "a")
        proc = subprocess.Popen([sys.executable, "-m", "worker.cli", "--config", str(self.config_path), *args],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})})
        self.names[proc] = " ".join(a for a in args if not a[:1].isdigit())
        return proc

    def ended(self, proc: subprocess.Popen) -> bool:
        """Whether it exited, counting how: a process of ours that ends on its own must exit 0."""
        code = proc.poll()
        if code is not None:
            self.exits[(self.names.pop(proc), code)] += 1
        return code is not None

    def kill(self, proc: subprocess.Popen, why: str) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.names.pop(proc)
        self.kills[why] += 1

    def feed(self) -> None:
        earlier: list[bytes] = []
        with imapclient.IMAPClient("127.0.0.1", port=self.server.port, ssl=False) as client:
            client.login(self.user, self.server.password)
            n = 0
            while not self.stop.wait(0.5):
                kind, raw = message(n, self.rng, earlier)
                client.append("INBOX", raw)
                self.appended[kind] += 1
                if kind in ("complaint", "question", "reused id"):
                    earlier.append(raw)
                n += 1

    def approve_pending(self, store: Store) -> None:
        for draft in store.drafts(state="pending"):
            try:
                approve(store, self.config, draft["id"], "Soak Reviewer", datetime.now(timezone.utc))
                self.approved += 1
            except ReviewError:
                pass  # superseded by a newer message meanwhile: the newer draft comes next

    def review(self) -> None:
        store = Store.open(self.config.store.path)
        try:
            while not self.stop.wait(1.0):
                try:
                    self.approve_pending(store)
                except sqlite3.OperationalError:  # the lock holder below: a person would click again
                    store.db.conn.rollback()
        finally:
            store.close()

    def hold_write_lock(self) -> None:
        """Another process (a backup, an admin's sqlite3 shell) keeps the write lock 40 s,
        longer than the workers' busy timeout, once a minute."""
        while not self.stop.wait(20):
            conn = sqlite3.connect(self.config.store.path, timeout=60, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            self.locks += 1
            self.stop.wait(40)
            conn.execute("COMMIT")
            conn.close()

    def pause_past_lease(self, failpoint: str) -> None:
        """A sender stopped at ``failpoint`` while holding a reply, its lease run out, the reply
        taken over by another process, and then the sender let go: it must not send. A sender
        that found nothing to send exits; another is started until one stops (up to 15 s)."""
        give_up = time.monotonic() + 15
        while not self.stop.is_set() and time.monotonic() < give_up:
            proc = self.spawn("send", "--once", env={"AMENDS_FAILPOINT": failpoint})
            while proc.poll() is None and not stopped(proc.pid):
                time.sleep(0.05)
            if proc.poll() is not None:
                self.ended(proc)
                continue
            with sqlite3.connect(self.config.store.path, timeout=60) as conn:
                taken = conn.execute("UPDATE outbox SET claimed_until = '2000-01-01T00:00:00+00:00' "
                                     "WHERE claimed_by LIKE ?", [f"%:{proc.pid}:%"]).rowcount
            conn.close()
            self.pauses[f"{failpoint}, {taken} lease(s) run out"] += 1
            self.stop.wait(3)  # the running workers take it over meanwhile
            proc.send_signal(signal.SIGCONT)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.kill(proc, "one-shot (hung after a pause)")
                return
            self.ended(proc)
            return

    def run(self) -> None:
        runs = [self.spawn("run") for _ in range(self.workers)]
        one_shots: list[subprocess.Popen] = []
        threads = [threading.Thread(target=self.feed), threading.Thread(target=self.review),
                   threading.Thread(target=self.hold_write_lock)]
        for thread in threads:
            thread.start()
        pauser: threading.Thread | None = None
        ahead = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat(timespec="seconds")
        deadline = time.monotonic() + self.minutes * 60
        next_kill = time.monotonic() + self.rng.uniform(*self.kill_every)
        next_pause = time.monotonic() + 15
        while time.monotonic() < deadline:
            for i, proc in enumerate(runs):
                if self.ended(proc):
                    runs[i] = self.spawn("run")
            one_shots = [p for p in one_shots if not self.ended(p)]
            if len(one_shots) < 2:
                one_shots.append(self.spawn(*self.rng.choice(
                    [("send", "--once"), ("jobs", "run-due"), ("jobs", "run-due", "--now", ahead)])))
            if time.monotonic() >= next_pause and (pauser is None or not pauser.is_alive()):
                failpoint = self.rng.choice(["smtp-before-connect", "smtp-before-data"])
                pauser = threading.Thread(target=self.pause_past_lease, args=(failpoint,))
                pauser.start()
                next_pause = time.monotonic() + 20
            if time.monotonic() >= next_kill:
                victim = self.rng.choice(runs + one_shots)
                if not self.ended(victim):
                    self.kill(victim, "amends run" if victim in runs else "one-shot")
                if victim in runs:
                    runs[runs.index(victim)] = self.spawn("run")
                else:
                    one_shots.remove(victim)
                next_kill = time.monotonic() + self.rng.uniform(*self.kill_every)
            time.sleep(0.2)
        self.stop.set()
        for thread in [*threads, *([pauser] if pauser else [])]:
            thread.join()
        self.drain(runs, one_shots)

    def drain(self, runs: list[subprocess.Popen], one_shots: list[subprocess.Popen]) -> None:
        """No more kills: let every message be read, every approval sent, every job run."""
        for proc in one_shots:
            proc.wait()
            self.ended(proc)
        store = Store.open(self.config.store.path)
        expected = sum(self.appended.values()) - self.appended["copy"]
        try:
            for _ in range(180):
                self.approve_pending(store)
                left = store._exec("SELECT (SELECT count(*) FROM messages WHERE state = 'new') + "
                                   "(SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')) + "
                                   "(SELECT count(*) FROM drafts WHERE state = 'pending')").fetchone()[0]
                stored = store._exec("SELECT count(*) FROM messages WHERE direction = 'in'").fetchone()[0]
                if not left and stored >= expected:
                    break
                time.sleep(1)
        finally:
            store.close()
        for proc in runs:
            if proc.poll() is None:
                self.names[proc] = "run, stopped with SIGTERM at the end"
                proc.send_signal(signal.SIGTERM)
            proc.wait()
            self.ended(proc)
        for args in (("jobs", "run-due"), ("send", "--once")):
            proc = self.spawn(*args)
            proc.wait()
            self.ended(proc)

    def report(self) -> bool:
        """Print the figures; whether the run was clean."""
        store = Store.open(self.config.store.path)
        q = store._exec
        appended = sum(self.appended.values())
        expected = appended - self.appended["copy"]
        stored = q("SELECT count(*) FROM messages WHERE direction = 'in' AND message_id LIKE 'soak-%'").fetchone()[0]
        quarantined = Counter(r[0].split(":")[0] for r in q("SELECT quarantine_reason FROM messages WHERE state = 'quarantined'"))
        automated = q("SELECT count(*) FROM messages WHERE automated IS NOT NULL AND direction = 'in'").fetchone()[0]
        delivered = Counter(m.raw.split(b"Message-ID: <", 1)[1].split(b">", 1)[0] for m in self.sink.messages
                            if b"Message-ID: <" in m.raw)
        twice = {mid: n for mid, n in delivered.items() if n > 1}
        replies_sent = q("SELECT count(*) FROM outbox WHERE kind = 'reply' AND state = 'sent'").fetchone()[0]
        failed = q("SELECT count(*) FROM outbox WHERE state = 'failed'").fetchone()[0]
        jobs = Counter(dict(q("SELECT state, count(*) FROM jobs GROUP BY state").fetchall()))
        job_mail = q("SELECT count(*) FROM outbox WHERE kind != 'reply'").fetchone()[0]
        store.close()
        # A one-shot that meets the held write lock past its busy timeout exits 1 with one line,
        # as a cron job should; a worker must never end on its own, and nothing may crash.
        bad_exits = {(what, code): n for (what, code), n in self.exits.items() if what == "run" or code not in (0, 1)}
        tracebacks = (self.work / "processes.log").read_text(errors="replace").count("Traceback")
        print(f"ran {self.minutes:g} min with {self.workers} `amends run` and one-shots; killed "
              f"{sum(self.kills.values())} ({dict(self.kills)}); paused past the lease {sum(self.pauses.values())} "
              f"({dict(self.pauses) or '-'}); write lock held {self.locks} time(s)")
        print(f"messages appended {appended} ({dict(self.appended)}), expected stored {expected}, "
              f"stored {stored}, lost {max(0, expected - stored)}")
        print(f"  quarantined {sum(quarantined.values())}: {dict(quarantined) or '-'}; automated (never answered) {automated}")
        print(f"replies approved {self.approved}, sent {replies_sent}, failed (held for a person) {failed}")
        print(f"  at the SMTP server: {len(delivered)} distinct messages, delivered twice {len(twice)}"
              + (f": {sorted(twice)[:5]}" if twice else ""))
        print(f"jobs due and run {jobs['done']}, still scheduled {jobs['scheduled']}, failed {jobs['failed']}; "
              f"mail from jobs {job_mail}, run twice {max(0, job_mail - jobs['done'])}")
        print(f"process exits on their own: {dict(sorted(self.exits.items()))}; workers that quit or "
              f"crashes {sum(bad_exits.values())}; tracebacks logged {tracebacks}")
        print(f"details: {self.work}")
        return stored >= expected and not twice and job_mail <= jobs["done"] and not bad_exits and not tracebacks

    def close(self) -> None:
        self.sink.stop()
        self.server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--workers", type=int, default=3, help="`amends run` processes")
    parser.add_argument("--kill-every", default="2-5", help="seconds between kills, a range: 2-5")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    low, _, high = args.kill_every.partition("-")
    soak = Soak(args.minutes, args.workers, (float(low), float(high or low)), args.seed)
    soak.setup()
    try:
        soak.run()
        clean = soak.report()
    finally:
        soak.close()
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
