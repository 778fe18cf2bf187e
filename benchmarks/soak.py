"""Soak: mail keeps coming, people keep approving, and processes keep dying. Nothing may be
lost or done twice.

    python benchmarks/soak.py [--minutes 3] [--kill-every 4]

Against a private Dovecot and an SMTP sink, for N minutes:
- a feeder appends mail, about two messages a second: complaints, questions, auto-replies,
  bounces, and hostile mail (deeply nested HTML, megabyte headers, a body of @);
- a reviewer approves every pending draft, once a second, as the web page does;
- two `amends run`, plus `amends send --once` and `amends jobs run-due` started over and over,
  share one database; every few seconds one of them, chosen at random, is SIGKILLed (and the
  long-running ones restarted).
Then the processes drain what is left, and the script prints what was appended, stored,
quarantined (with reasons), approved, delivered and delivered twice, and how many jobs were
due, run, and run twice. The goal is 0 lost and 0 twice. Needs an active model (`amends train`).
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
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import imapclient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.labels import model_dir_version  # noqa: E402
from worker.config import load_config  # noqa: E402
from worker.dovecot import Dovecot, free_port  # noqa: E402
from worker.review import ReviewError, approve  # noqa: E402
from worker.smtp_sink import SmtpSink  # noqa: E402
from worker.store import Store  # noqa: E402

COMPLAINTS = [
    "My order #{n} is two weeks late and nobody answers my emails. Very disappointed.",
    "You charged me twice for invoice INV-{n}. I want the duplicate refunded today or I'm leaving.",
    "The heater from order {n} sparked and burned my hand. This is dangerous.",
    "Third time this month the app logs me out mid-payment (account {n}). Fix it.",
]
QUESTIONS = ["Could you tell me your opening hours over Christmas? (ref {n})",
             "Thanks, the replacement for order {n} arrived this morning!"]


def message(n: int, rng: random.Random) -> tuple[str, bytes]:
    """One message of the mix, with a Message-ID to find it by."""
    mid = f"soak-{n}@customer.example"
    sender = f"customer{n % 40}@customer.example"
    kind = rng.choices(["complaint", "question", "auto-reply", "bounce", "hostile"], [6, 2, 1, 1, 1])[0]
    headers = {"From": f"Customer {n % 40} <{sender}>", "To": "support@soak.amends.test",
               "Subject": f"Order {n}", "Message-ID": f"<{mid}>", "Date": "Mon, 30 Nov 2026 09:00:00 +0000"}
    body, ctype = rng.choice(COMPLAINTS if kind == "complaint" else QUESTIONS).format(n=n), "text/plain"
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


class Soak:
    def __init__(self, minutes: float, kill_every: float, seed: int) -> None:
        self.minutes, self.kill_every = minutes, kill_every
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.appended: Counter = Counter()
        self.approved = 0
        self.kills = Counter()

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

    def spawn(self, *args: str) -> subprocess.Popen:
        log = open(self.work / "processes.log", "a")
        return subprocess.Popen([sys.executable, "-m", "worker.cli", "--config", str(self.config_path), *args],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL)

    def feed(self) -> None:
        with imapclient.IMAPClient("127.0.0.1", port=self.server.port, ssl=False) as client:
            client.login(self.user, self.server.password)
            n = 0
            while not self.stop.wait(0.5):
                kind, raw = message(n, self.rng)
                client.append("INBOX", raw)
                self.appended[kind] += 1
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
                self.approve_pending(store)
        finally:
            store.close()

    def run(self) -> None:
        runs = [self.spawn("run") for _ in range(2)]
        one_shots: list[subprocess.Popen] = []
        threads = [threading.Thread(target=self.feed), threading.Thread(target=self.review)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + self.minutes * 60
        next_kill = time.monotonic() + self.kill_every
        while time.monotonic() < deadline:
            one_shots = [p for p in one_shots if p.poll() is None]
            if len(one_shots) < 2:
                one_shots.append(self.spawn(*self.rng.choice([("send", "--once"), ("jobs", "run-due")])))
            if time.monotonic() >= next_kill:
                victims = runs + one_shots
                victim = self.rng.choice(victims)
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                self.kills["amends run" if victim in runs else "one-shot"] += 1
                if victim in runs:
                    runs[runs.index(victim)] = self.spawn("run")
                next_kill = time.monotonic() + self.kill_every
            time.sleep(0.2)
        self.stop.set()
        for thread in threads:
            thread.join()
        self.drain(runs, one_shots)

    def drain(self, runs: list[subprocess.Popen], one_shots: list[subprocess.Popen]) -> None:
        """No more kills: let every message be read, every approval sent, every job run."""
        for proc in one_shots:
            proc.wait()
        store = Store.open(self.config.store.path)
        try:
            for _ in range(120):
                self.approve_pending(store)
                left = store._exec("SELECT (SELECT count(*) FROM messages WHERE state = 'new') + "
                                   "(SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')) + "
                                   "(SELECT count(*) FROM drafts WHERE state = 'pending')").fetchone()[0]
                stored = store._exec("SELECT count(*) FROM messages WHERE direction = 'in'").fetchone()[0]
                if not left and stored >= sum(self.appended.values()):
                    break
                time.sleep(1)
        finally:
            store.close()
        for proc in runs:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
        for args in (("jobs", "run-due"), ("send", "--once")):
            self.spawn(*args).wait()

    def report(self) -> None:
        store = Store.open(self.config.store.path)
        q = store._exec
        appended = sum(self.appended.values())
        stored = q("SELECT count(DISTINCT message_id) FROM messages WHERE direction = 'in' AND message_id LIKE 'soak-%'").fetchone()[0]
        quarantined = Counter(r[0].split(":")[0] for r in q("SELECT quarantine_reason FROM messages WHERE state = 'quarantined'"))
        automated = q("SELECT count(*) FROM messages WHERE automated IS NOT NULL AND direction = 'in'").fetchone()[0]
        delivered = Counter(m.raw.split(b"Message-ID: <", 1)[1].split(b">", 1)[0] for m in self.sink.messages
                            if b"Message-ID: <" in m.raw)
        replies_sent = q("SELECT count(*) FROM outbox WHERE kind = 'reply' AND state = 'sent'").fetchone()[0]
        failed = q("SELECT count(*) FROM outbox WHERE state = 'failed'").fetchone()[0]
        jobs = Counter(dict(q("SELECT state, count(*) FROM jobs GROUP BY state").fetchall()))
        job_mail = q("SELECT count(*) FROM outbox WHERE kind != 'reply'").fetchone()[0]
        print(f"ran {self.minutes:g} min; killed {self.kills['amends run']} `amends run` and "
              f"{self.kills['one-shot']} one-shot processes")
        print(f"messages appended {appended} ({dict(self.appended)}), stored {stored}, lost {appended - stored}")
        print(f"  quarantined {sum(quarantined.values())}: {dict(quarantined) or '-'}; automated (never answered) {automated}")
        print(f"replies approved {self.approved}, sent {replies_sent}, failed (held for a person) {failed}")
        print(f"  at the SMTP server: {len(delivered)} distinct messages, "
              f"delivered twice {sum(1 for c in delivered.values() if c > 1)}")
        print(f"jobs due and run {jobs['done']}, still scheduled {jobs['scheduled']}, failed {jobs['failed']}; "
              f"mail from jobs {job_mail}, run twice {max(0, job_mail - jobs['done'])}")
        print(f"details: {self.work}")
        store.close()

    def close(self) -> None:
        self.sink.stop()
        self.server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--kill-every", type=float, default=4, help="seconds between kills")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    soak = Soak(args.minutes, args.kill_every, args.seed)
    soak.setup()
    try:
        soak.run()
        soak.report()
    finally:
        soak.close()


if __name__ == "__main__":
    main()
