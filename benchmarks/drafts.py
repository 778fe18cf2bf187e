"""Draft benchmark: APPEND of a complaint to its draft in the queue, approval to the SMTP
server, and drafts rendered/s.

    python benchmarks/drafts.py [--messages 50] [--approvals 20]

Runs `amends run` in a child process against a private Dovecot (IDLE) and an SMTP sink,
appends complaints one at a time and waits for each draft row to appear; then approves drafts
one at a time (as the web page does) and waits for each reply at the SMTP server; then renders
drafts in-process. Needs an active model (`amends train`).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import imapclient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.labels import model_dir_version  # noqa: E402
from worker.config import load_config, parse_config  # noqa: E402
from worker.desk.context import build_context  # noqa: E402
from worker.demo.dovecot import Dovecot, free_port  # noqa: E402
from worker.desk.drafts import Templates, compose  # noqa: E402
from worker.desk.language import detect  # noqa: E402
from worker.desk.stakes import assess  # noqa: E402
from worker.desk.review import approve  # noqa: E402
from worker.demo.smtp_sink import SmtpSink  # noqa: E402
from worker.store import Store  # noqa: E402

from timing import latency_line, seconds_until  # noqa: E402

COMPLAINTS = [
    "My order #{n} is two weeks late and nobody answers my emails. Very disappointed.",
    "You charged me twice for invoice INV-{n}. Please refund the duplicate.",
    "The kettle I bought (order {n}) leaks from the base. I want a replacement.",
    "No internet since Monday on account {n}. I work from home and this is costing me money.",
]


def draft_exists(db: Path, message_id: str) -> bool:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(
                "SELECT 1 FROM drafts d JOIN messages m ON m.id = d.message_pk WHERE m.message_id = ?", [message_id]
            ).fetchone() is not None
    except sqlite3.OperationalError:
        return False


def approve_one_by_one(config_path: Path, sink: SmtpSink, count: int) -> list[float]:
    """Approve drafts as a reviewer would, one at a time; seconds until each reaches the server."""
    config = load_config(str(config_path))
    store = Store.open(config.store.path)
    seconds = []
    try:
        for draft in store.drafts(state="pending")[:count]:
            before = len(sink.messages)
            approve(store, config, draft["id"], "Bench Reviewer", datetime.now(timezone.utc))
            seconds.append(seconds_until(lambda: len(sink.messages) > before, 30, f"draft {draft['id']} not sent"))
    finally:
        store.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--approvals", type=int, default=20)
    parser.add_argument("--render", type=int, default=2000)
    args = parser.parse_args()
    model_dir = ROOT / load_config(str(ROOT / "config" / "demo.toml")).classifier.model_dir
    if model_dir_version(model_dir) is None:
        raise SystemExit("no active model: run `amends train` first")

    server = Dovecot.create()
    server.start()
    sink = SmtpSink(free_port()).start()
    work = Path(tempfile.mkdtemp(prefix="amends-bench."))
    os.environ["BENCH_IMAP_PASSWORD"] = server.password
    user = "drafts@bench.amends.test"
    config_path = work / "amends.toml"
    config_path.write_text(f"""
[imap]
host = "127.0.0.1"
port = {server.port}
security = "none"
username = "{user}"
password_env = "BENCH_IMAP_PASSWORD"
draft_since = "all"
[store]
path = "{work / 'amends.db'}"
[classifier]
model_dir = "{model_dir}"
[smtp]
host = "127.0.0.1"
port = {sink.port}
security = "none"
[drafts]
templates_dir = "{ROOT / 'templates' / 'replies'}"
[log]
level = "WARNING"
""")
    log = open(work / "worker.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "worker.cli", "--config", str(config_path), "run"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    print(f"worker log: {work / 'worker.log'}")
    latencies = []
    try:
        with imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False) as client:
            client.login(user, server.password)
            deadline = time.monotonic() + 20
            while not (work / "amends.db").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(3.0)  # model load and first pass, then IDLE
            for i in range(args.messages):
                message_id = f"bench-draft-{i}@customer.example"
                body = COMPLAINTS[i % len(COMPLAINTS)].format(n=48000 + i)
                raw = (f"From: Customer {i} <customer{i}@customer.example>\r\nTo: {user}\r\n"
                       f"Subject: Problem {i}\r\nMessage-ID: <{message_id}>\r\n"
                       f"Date: {datetime.now(timezone.utc):%a, %d %b %Y %H:%M:%S +0000}\r\n\r\n{body}\r\n").encode()
                client.append("INBOX", raw)
                latencies.append(seconds_until(lambda: draft_exists(work / "amends.db", message_id), 20,
                                               f"no draft for message {i}"))
        sends = approve_one_by_one(config_path, sink, args.approvals)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        server.remove()
        sink.stop()

    print(latency_line("APPEND-to-draft under IDLE, complaints", latencies,
                       "goal p95 < 2000 ms; Dovecot's IDLE floor is ~500 ms"))
    check = load_config(str(config_path)).smtp.check_seconds
    print(latency_line("approved-to-SMTP server while the worker idles, replies", sends,
                       f"goal p95 < smtp.check_seconds + 1 s = {check + 1} s"))

    config = parse_config(f'[imap]\nusername = "s@example.com"\n[drafts]\ntemplates_dir = "{ROOT / "templates" / "replies"}"\n')
    templates = Templates.load(config.drafts.templates_dir)
    texts = [COMPLAINTS[i % 4].format(n=i) for i in range(args.render)]
    started = time.perf_counter()
    for i, text in enumerate(texts):  # what drafting costs per message: context, stakes, language, template
        ctx = build_context(f"Problem {i}", text, f"Customer {i}")
        compose(templates, config, ctx, ("low", "medium", "high", "critical")[i % 4],
                ("delivery", "billing", "defect", "outage")[i % 4], assess(text), detect(text))
    seconds = time.perf_counter() - started
    print(f"drafts rendered: {args.render / seconds:,.0f}/s ({args.render:,} in {seconds:.2f} s)")


if __name__ == "__main__":
    main()
