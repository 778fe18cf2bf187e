"""A first import: every message stored before any is parsed, then parsed on every core, with the
same result as parsing here; a parse process that dies costs nothing."""

import os
import subprocess
import sys
from datetime import datetime, timezone

from worker.loop import PARALLEL_FROM, Worker
from worker.mail.parse import parse_message

from .conftest import ROOT, eml

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
FIXTURES = ["question.eml", "praise.eml", "html_only.eml", "ooo_gmail.eml", "gmail_complaint_delivery.eml",
            "dsn_postfix.eml", "shift_jis.eml", "outlook_html_reply.eml"]


def backlog(count: int) -> list[bytes]:
    out = []
    for i in range(count):
        head, sep, body = eml(FIXTURES[i % len(FIXTURES)]).replace(b"\r\n", b"\n").partition(b"\n\n")
        lines = [line for line in head.split(b"\n") if not line.lower().startswith((b"message-id:", b"from:"))]
        sender = f"From: Customer {i} <c{i}@example.net>" if i % len(FIXTURES) not in (3, 5) else "From: x@y.example"
        out.append(b"\n".join([f"Message-ID: <backlog-{i}@example.net>".encode(), sender.encode(), *lines]) + sep + body)
    return out


def same_as_parsing_here(store, count: int) -> None:
    for row in store.messages(limit=count):
        if row["id"] % 97 == 0:  # a sample
            parsed = parse_message(store.raw(row["id"]))
            stored = store.message(row["id"])
            assert (stored["new_text"], stored["subject"], stored["from_addr"]) == \
                (parsed.new_text, parsed.subject, parsed.from_addr)


def test_a_first_import_is_stored_whole_then_parsed_in_parse_processes(mailbox, make_config, store, caplog):
    raws = backlog(PARALLEL_FROM + 50)
    mailbox.append_many(raws)
    order: list[str] = []
    worker = Worker(make_config(), store, progress=lambda what, done, total: order.append(what) if done == total else None)
    with worker.inbox:
        summary = worker.poll(NOW)
    assert summary.new == len(raws) and summary.ingest.parsed + summary.ingest.quarantined == len(raws)
    assert order[-2:] == ["Reading INBOX", "Parsing INBOX"]  # all stored first, then parsed
    same_as_parsing_here(store, len(raws))
    assert summary.ingest.automated >= 2 * len(raws) // len(FIXTURES)  # the out-of-office and the bounce
    assert not [r for r in caplog.records if "parse process died" in r.getMessage()]


def test_a_parse_process_that_dies_costs_its_batches_a_second_try_here_and_nothing_else(
        mailbox, make_config, store, caplog, monkeypatch):
    raws = backlog(PARALLEL_FROM + 50)
    mailbox.append_many(raws)
    monkeypatch.setenv("AMENDS_FAILPOINT", "parse-process:kill")  # every parse process dies on its first batch
    worker = Worker(make_config(), store)
    with worker.inbox:
        summary = worker.poll(NOW)
    assert [r for r in caplog.records if "parse process died" in r.getMessage()]
    assert summary.ingest.parsed == len(raws) and summary.ingest.quarantined == 0
    assert store.counts()["parsed"] == len(raws)
    same_as_parsing_here(store, len(raws))


def test_parse_processes_take_only_idle_cpu_and_never_rerun_the_program(tmp_path):
    # A script without an `if __name__ == "__main__"` guard: a spawned process that ran it
    # again would start a pool of its own and fail.
    script = tmp_path / "no_guard.py"
    script.write_text(
        "import os\n"
        "from worker.mail.parse_pool import ParsePool\n"
        "pool = ParsePool(1)\n"
        "print(pool.executor.submit(os.sched_getscheduler, 0).result() == os.SCHED_IDLE)\n"
        "pool.close()\n"
    )
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (done.returncode, done.stdout) == (0, "True\n"), done.stderr
