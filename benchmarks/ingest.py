"""Ingest benchmark: Amends against the raw limit, on the same Dovecot, in the same run.

    python benchmarks/ingest.py [--messages 10000] [--rounds 3] [--batch 200] [--latency 50]

The mailbox is realistic: the project's .eml fixtures, each copy from its own sender with its
own date and Message-ID, and machine mail (bounces, auto-replies, lists) at about one in
seven. Each round, interleaved, on a fresh mailbox of the same mail; medians are printed:
  (a) raw: plain imapclient UID FETCH of the items Amends fetches (BODY.PEEK[] INTERNALDATE), in
      the same batches; wall time and client CPU;
  (b) `amends poll --once`, the whole ingest (fetch, store raw, parse, guard, thread; no model:
      classifying and drafting have their own benchmarks); wall and CPU, and the same again
      without its start-up (measured as a poll that finds nothing new), so that neither side
      counts starting Python;
  (c) inside a running `amends run` (already connected and in IDLE): from the moment the mail
      is there to every message's raw bytes committed (durable intake: what decides whether
      mail can be lost), and to every message ingested.
Goals: durable intake >= 0.5 of raw, whole ingest >= 0.25 of raw. Then peak RSS, and the
APPEND-to-stored latency under IDLE (p50/p95).
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import imapclient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.demo.dovecot import Dovecot  # noqa: E402
from worker.mail.inbox import FETCH_ITEMS  # noqa: E402

from timing import latency_line, seconds_until  # noqa: E402

EML = ROOT / "tests" / "fixtures" / "eml"
SKIP = {"large_attachment.eml", "not_an_email.eml"}
MACHINE_MARKS = (b"auto-submitted:", b"multipart/report", b"precedence:", b"list-id:", b"list-unsubscribe:",
                 b"x-autoreply", b"x-auto-response-suppress", b"no-reply@", b"out of office")


def corpus(count: int, tag: str) -> list[bytes]:
    """Mail from people (each copy its own sender and date) and, one in seven, machine mail."""
    people, machines = [], []
    for path in sorted(EML.glob("*.eml")):
        if path.name in SKIP:
            continue
        raw = path.read_bytes()
        (machines if any(h in raw.lower() for h in MACHINE_MARKS) else people).append(raw)
    start = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    out = []
    for i in range(count):
        base = machines[i % len(machines)] if i % 7 == 6 else people[i % len(people)]
        head, sep, body = base.replace(b"\r\n", b"\n").partition(b"\n\n")
        lines = [line for line in head.split(b"\n") if not line.lower().startswith((b"message-id:", b"date:"))]
        if i % 7 != 6:  # a person: their own address
            lines = [line for line in lines if not line.lower().startswith((b"from:", b"return-path:"))]
            lines.insert(0, f"From: Customer {i} <customer{i}@mail{i % 97}.example>".encode())
        date = format_datetime(start + timedelta(seconds=37 * i))
        raw = b"\n".join([f"Message-ID: <{tag}-{i}@bench.amends.test>".encode(), f"Date: {date}".encode(), *lines]) + sep + body
        out.append(raw.replace(b"\n", b"\r\n"))
    return out


def seed(server: Dovecot, user: str, raws: list[bytes]) -> None:
    with imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False) as client:
        client.login(user, server.password)
        for start in range(0, len(raws), 500):
            client.multiappend("INBOX", raws[start : start + 500])


def raw_fetch(server: Dovecot, user: str, batch: int) -> tuple[int, float, float]:
    """(messages, wall seconds, client CPU seconds) of plain imapclient reading the folder: the
    same items as Amends fetches, with the same client settings, in the same batches."""
    started, cpu = time.perf_counter(), time.process_time()
    with imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False) as client:
        client.normalise_times = False
        client.login(user, server.password)
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["UID", "1:*"])
        total = 0
        for i in range(0, len(uids), batch):
            response = client.fetch(uids[i : i + batch], FETCH_ITEMS)
            total += sum(len(d[b"BODY[]"]) for d in response.values())
    return len(uids), time.perf_counter() - started, time.process_time() - cpu


def write_config(workdir: Path, server: Dovecot, user: str, batch: int, level: str = "WARNING") -> Path:
    path = workdir / f"{user.split('@')[0]}.toml"
    path.write_text(
        f"""
[imap]
host = "127.0.0.1"
port = {server.port}
security = "none"
username = "{user}"
password_env = "BENCH_IMAP_PASSWORD"
batch_size = {batch}
[store]
path = "{workdir / (user.split('@')[0] + '.db')}"
[classifier]
model_dir = "{workdir / 'no-models'}"
[log]
level = "{level}"
"""
    )
    return path


def amends_poll(config: Path) -> tuple[float, float, int]:
    """Wall time, CPU time and peak RSS (KiB) of one `amends poll --once` child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "--config", str(config), "poll", "--once"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"amends poll --once failed with {status}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def counts(db: Path) -> tuple[int, bool]:
    """(messages whose raw bytes are committed, whether any still waits to be ingested). Two
    index lookups, so that watching every few milliseconds takes no CPU from the worker (ids
    start at 1 in a fresh store and none is deleted, so the highest id is the count)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            (have,) = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()
            (waiting,) = conn.execute("SELECT EXISTS (SELECT 1 FROM messages WHERE state = 'new')").fetchone()
            return have, bool(waiting)
    except sqlite3.OperationalError:
        return 0, False


def running_worker(server: Dovecot, workdir: Path, user: str, raws: list[bytes], batch: int) -> tuple[float, float]:
    """Seconds, inside a running `amends run`, until all of ``raws`` are stored and ingested.

    The worker starts on an empty mailbox and reaches IDLE; it is then paused (SIGSTOP) while
    the mail is appended, and the clock starts when it is let go (SIGCONT): only its own work
    is timed, not its start-up nor the APPEND."""
    config = write_config(workdir, server, user, batch)
    db = workdir / (user.split("@")[0] + ".db")
    proc = subprocess.Popen([sys.executable, "-m", "worker.cli", "--config", str(config), "run"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seconds_until(lambda: _checked(db), 30, "the worker did not start")
        time.sleep(0.5)  # into IDLE
        proc.send_signal(signal.SIGSTOP)
        seed(server, user, raws)
        started = time.perf_counter()
        proc.send_signal(signal.SIGCONT)
        stored_at = ingested_at = None
        while ingested_at is None:
            have, waiting = counts(db)
            now = time.perf_counter()
            if stored_at is None and have >= len(raws):
                stored_at = now
            if stored_at is not None and not waiting:
                ingested_at = now
            if now - started > 600:
                raise SystemExit("the running worker did not finish in 10 minutes")
            time.sleep(0.005)
        return stored_at - started, ingested_at - started
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _checked(db: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return bool(conn.execute("SELECT count(*) FROM mailboxes WHERE last_check_at IS NOT NULL").fetchone()[0])
    except sqlite3.OperationalError:
        return False


def stored(db: Path, message_id: str) -> bool:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            row = conn.execute(
                "SELECT 1 FROM messages WHERE message_id = ? AND state = 'parsed'", [message_id]
            ).fetchone()
        return row is not None
    except sqlite3.OperationalError:
        return False


def idle_latency(server: Dovecot, workdir: Path, count: int) -> list[float]:
    user = "latency@bench.amends.test"
    config = write_config(workdir, server, user, 200, level="INFO")
    db = workdir / "latency.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "--config", str(config), "run"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    latencies = []
    try:
        with imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False) as client:
            client.login(user, server.password)
            deadline = time.monotonic() + 10
            while not db.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)  # let the worker reach IDLE before the first APPEND
            for i, raw in enumerate(corpus(count, "idle")):
                message_id = f"idle-{i}@bench.amends.test"
                client.append("INBOX", raw)
                latencies.append(seconds_until(lambda: stored(db, message_id), 10, f"message {i} not stored"))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--latency", type=int, default=50)
    args = parser.parse_args()

    server = Dovecot.create()
    server.start()
    os.environ["BENCH_IMAP_PASSWORD"] = server.password
    workdir = Path(tempfile.mkdtemp(prefix="amends-bench."))
    n = args.messages
    try:
        raws = corpus(n, "big")
        rows: dict[str, list[tuple[float, float]]] = {key: [] for key in ("raw", "poll", "poll-net", "durable", "ingested")}
        for r in range(args.rounds):
            user = f"round{r}@bench.amends.test"
            seed(server, user, raws)
            _, seconds, cpu = raw_fetch(server, user, args.batch)
            rows["raw"].append((seconds, cpu))
            config = write_config(workdir, server, user, args.batch)
            seconds, cpu, rss_big = amends_poll(config)
            rows["poll"].append((seconds, cpu))
            idle_seconds, idle_cpu, _ = amends_poll(config)  # nothing new: start-up, login, SELECT, search
            rows["poll-net"].append((seconds - idle_seconds, cpu - idle_cpu))
            _, seconds, cpu = raw_fetch(server, user, args.batch)  # raw again, between the amends runs
            rows["raw"].append((seconds, cpu))
            stored, ingested = running_worker(server, workdir, f"live{r}@bench.amends.test", raws, args.batch)
            rows["durable"].append((stored, float("nan")))
            rows["ingested"].append((ingested, float("nan")))
            print(f"round {r + 1}: raw {n / rows['raw'][-1][0]:,.0f}/s, poll {n / rows['poll'][-1][0]:,.0f}/s, "
                  f"running worker: stored {n / stored:,.0f}/s, ingested {n / ingested:,.0f}/s", flush=True)
        median = {key: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for key, v in rows.items()}
        raw_rate = n / median["raw"][0]
        machine = sum(1 for i in range(n) if i % 7 == 6)
        print(f"\n{n:,} messages ({machine / n:.0%} machine mail), medians of {args.rounds} rounds "
              f"({len(rows['raw'])} raw runs interleaved)")
        print(f"{'':56s}{'msgs/s':>9s}{'wall s':>9s}{'CPU s':>8s}{'of raw':>8s}")
        for label, key in [("(a) raw imapclient UID FETCH, the same items", "raw"),
                           ("(b) amends poll --once, whole ingest", "poll"),
                           ("    the same without its start-up", "poll-net"),
                           ("(c) running worker: durable intake (raw bytes committed)", "durable"),
                           ("    running worker: whole ingest", "ingested")]:
            wall, cpu = median[key]
            cpu_text = "" if cpu != cpu else f"{cpu:8.2f}"
            print(f"{label:56s}{n / wall:9,.0f}{wall:9.2f}{cpu_text:>8s}{n / wall / raw_rate:8.2f}")
        print("goals: durable intake >= 0.5 of raw; whole ingest >= 0.25 of raw")
        seed(server, "small@bench.amends.test", corpus(args.small, "small"))
        _, _, rss_small = amends_poll(write_config(workdir, server, "small@bench.amends.test", args.batch))
        print(f"peak RSS of amends poll --once: {rss_small / 1024:.0f} MiB at {args.small:,} messages, "
              f"{rss_big / 1024:.0f} MiB at {n:,}")
        if args.latency:
            print(latency_line("APPEND-to-stored under IDLE, messages", idle_latency(server, workdir, args.latency),
                               "goal p95 < 1000 ms; Dovecot's own IDLE notification floor is ~500 ms"))
    finally:
        server.remove()


if __name__ == "__main__":
    main()
