"""A first import: every message stored before any is parsed, then parsed on every core, with the
same result as parsing here."""

from datetime import datetime, timezone

import imapclient

from worker.loop import PARALLEL_FROM, Worker
from worker.parse import parse_message

from .conftest import eml

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


def test_a_first_import_is_stored_whole_then_parsed_in_parse_processes(mailbox, make_config, store, caplog):
    raws = backlog(PARALLEL_FROM + 50)
    with imapclient.IMAPClient("127.0.0.1", port=mailbox.server.port, ssl=False) as client:
        client.login(mailbox.user, mailbox.server.password)
        for start in range(0, len(raws), 500):
            client.multiappend("INBOX", raws[start : start + 500])
    order: list[str] = []
    worker = Worker(make_config(), store, progress=lambda what, done, total: order.append(what) if done == total else None)
    with worker.inbox:
        summary = worker.poll(NOW)
    assert summary.new == len(raws) and summary.ingest.parsed + summary.ingest.quarantined == len(raws)
    assert order[-2:] == ["INBOX", "INBOX: parsing"]  # all stored first, then parsed
    for row in store.messages(limit=len(raws)):
        if row["id"] % 97 == 0:  # a sample: the same as parsing in this process
            parsed = parse_message(store.raw(row["id"]))
            stored = store.message(row["id"])
            assert (stored["new_text"], stored["subject"], stored["from_addr"]) == \
                (parsed.new_text, parsed.subject, parsed.from_addr)
    assert summary.ingest.automated >= 2 * len(raws) // len(FIXTURES)  # the out-of-office and the bounce
    assert not [r for r in caplog.records if "parse process died" in r.getMessage()]
