"""Ingest benchmark: Amends against the raw limit, on the same Dovecot, in the same run.

    python benchmarks/ingest.py [--messages 10000] [--batch 200] [--latency 50]

Prints, for one seeded mailbox:
  (a) plain imapclient UID FETCH BODY.PEEK[] in batches: the raw limit, msgs/s;
  (b) `amends poll --once` doing the full ingest (fetch, store raw, parse, guard, thread;
      with no model, so classifying and drafting are left to their own benchmarks);
  the ratio b/a; peak RSS of `amends poll --once` at 1,000 and at the full count; and the
  APPEND-to-stored latency under IDLE (p50/p95), `amends run` in a child process.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imapclient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.dovecot import Dovecot  # noqa: E402

from timing import latency_line, seconds_until  # noqa: E402

EML = ROOT / "tests" / "fixtures" / "eml"
SKIP = {"large_attachment.eml", "not_an_email.eml"}


def corpus(count: int, tag: str) -> list[bytes]:
    """Realistic messages: the project's .eml fixtures, each copy with its own Message-ID."""
    bases = [p.read_bytes() for p in sorted(EML.glob("*.eml")) if p.name not in SKIP]
    out = []
    for i in range(count):
        head, sep, body = bases[i % len(bases)].partition(b"\n\n")
        lines = [line for line in head.split(b"\n") if not line.lower().startswith(b"message-id:")]
        raw = b"\n".join([f"Message-ID: <{tag}-{i}@bench.amends.test>".encode(), *lines]) + sep + body
        out.append(raw.replace(b"\n", b"\r\n"))
    return out


def seed(server: Dovecot, user: str, raws: list[bytes]) -> None:
    with imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False) as client:
        client.login(user, server.password)
        for start in range(0, len(raws), 500):
            client.multiappend("INBOX", raws[start : start + 500])


def raw_fetch(server: Dovecot, user: str, batch: int) -> tuple[int, float]:
    started = time.perf_counter()
    with imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False) as client:
        client.login(user, server.password)
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["UID", "1:*"])
        total = 0
        for i in range(0, len(uids), batch):
            response = client.fetch(uids[i : i + batch], [b"BODY.PEEK[]", b"RFC822.SIZE", b"INTERNALDATE", b"FLAGS"])
            total += sum(len(d[b"BODY[]"]) for d in response.values())
    return len(uids), time.perf_counter() - started


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


def amends_poll(config: Path) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one `amends poll --once` child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "--config", str(config), "poll", "--once"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"amends poll --once failed with {status}")
    return elapsed, usage.ru_maxrss


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
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--latency", type=int, default=50)
    args = parser.parse_args()

    server = Dovecot.create()
    server.start()
    os.environ["BENCH_IMAP_PASSWORD"] = server.password
    workdir = Path(tempfile.mkdtemp(prefix="amends-bench."))
    try:
        big, small = "big@bench.amends.test", "small@bench.amends.test"
        started = time.perf_counter()
        seed(server, big, corpus(args.messages, "big"))
        seed(server, small, corpus(args.small, "small"))
        print(f"seeded {args.messages:,} + {args.small:,} messages in {time.perf_counter() - started:.1f} s")

        count, raw_seconds = raw_fetch(server, big, args.batch)
        raw_rate = count / raw_seconds
        amends_seconds, rss_big = amends_poll(write_config(workdir, server, big, args.batch))
        amends_rate = args.messages / amends_seconds
        _, rss_small = amends_poll(write_config(workdir, server, small, args.batch))

        print(f"\n{'':42s}{'msgs/s':>10s}{'seconds':>10s}")
        print(f"{'(a) raw imapclient UID FETCH BODY.PEEK[]':42s}{raw_rate:10,.0f}{raw_seconds:10.2f}")
        print(f"{'(b) amends poll --once (full ingest)':42s}{amends_rate:10,.0f}{amends_seconds:10.2f}")
        print(f"ratio b/a: {amends_rate / raw_rate:.2f} (goal >= 0.5)")
        print(f"peak RSS of amends poll --once: {rss_small / 1024:.0f} MiB at {args.small:,} messages, "
              f"{rss_big / 1024:.0f} MiB at {args.messages:,}")

        if args.latency:
            print(latency_line("APPEND-to-stored under IDLE, messages", idle_latency(server, workdir, args.latency),
                               "goal p95 < 1000 ms; Dovecot's own IDLE notification floor is ~500 ms"))
    finally:
        server.remove()


if __name__ == "__main__":
    main()
