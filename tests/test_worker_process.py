"""The worker as a real process: killed, cut off from its server, woken by IDLE, stopped."""

import os
import select
import signal
import time

import pytest

from worker.demo.dovecot import Dovecot
from worker.store import Store

from .conftest import HUMAN_FIXTURES, Mailbox, descendants, eml, running

DEBUG = "[log]\nlevel = \"DEBUG\"\n"


def numbered(count: int) -> list[bytes]:
    """Distinct, realistic messages: the human fixtures with fresh Message-IDs."""
    bases = [eml(n) for n in HUMAN_FIXTURES if n not in ("large_attachment.eml", "no_message_id.eml")]
    out = []
    for i in range(count):
        raw = bases[i % len(bases)]
        head, sep, body = raw.partition(b"\n\n")
        lines = [l for l in head.split(b"\n") if not l.lower().startswith(b"message-id:")]
        out.append(b"\n".join([f"Message-ID: <bulk-{i}@amends.test>".encode(), *lines]) + sep + body)
    return out


def count(config) -> tuple[int, int, int]:
    store = Store.open(config.store.path)
    try:
        row = store.db.execute(
            "SELECT count(*), count(DISTINCT message_key), sum(state = 'new') FROM messages"
        ).fetchone()
        return row[0], row[1], row[2] or 0
    finally:
        store.close()


def test_idle_wakes_the_worker_within_about_a_second(mailbox, make_config, worker_process):
    worker = worker_process(make_config(DEBUG))
    worker.wait_for(r"waiting for new mail in INBOX \(IDLE")
    for _ in range(3):
        mark = worker.mark()
        started = time.monotonic()
        mailbox.append(eml("question.eml").replace(b"question-1", f"q-{started}".encode()))
        worker.wait_for(r"stored 1 new message", timeout=2.0, start=mark)
        assert time.monotonic() - started < 2.0
    assert worker.stop() == 0


def test_mail_arriving_between_a_pass_and_idle_is_not_left_waiting(mailbox, make_config, worker_process, monkeypatch):
    import os

    monkeypatch.setenv("AMENDS_FAILPOINT", "before-idle-select")
    worker = worker_process(make_config(DEBUG))
    _, status = os.waitpid(worker.proc.pid, os.WUNTRACED)  # frozen after its first pass
    assert os.WIFSTOPPED(status)
    mark = worker.mark()
    mailbox.append(eml("praise.eml"))
    os.kill(worker.proc.pid, signal.SIGCONT)
    worker.wait_for(r"stored 1 new message", timeout=5, start=mark)


def test_sigterm_stops_the_worker_cleanly(mailbox, make_config, worker_process):
    worker = worker_process(make_config(DEBUG))
    worker.wait_for(r"waiting for new mail")
    assert worker.stop(signal.SIGTERM) == 0
    assert any("worker stopped" in line for line in worker.lines)


def test_sigkill_mid_batch_loses_and_repeats_nothing(mailbox, make_config, worker_process):
    total = 3000
    mailbox.append_many(numbered(total))
    config = make_config(DEBUG, batch_size=25)
    worker = worker_process(config, "run")
    worker.wait_for(r"stored a batch of 25 \(UIDs 76-100\)", timeout=30)
    worker.stop(signal.SIGKILL)
    stored, distinct, _ = count(config)
    assert 100 <= stored < total, "the kill should land mid-import"

    again = worker_process(config, "poll", "--once")
    assert again.finish(timeout=120) == 0
    stored, distinct, unparsed = count(config)
    assert (stored, distinct, unparsed) == (total, total, 0)
    store = Store.open(config.store.path)
    uids = [r[0] for r in store.db.execute("SELECT uid FROM locations ORDER BY uid")]
    store.close()
    assert uids == list(range(1, total + 1))


def test_a_killed_worker_leaves_no_parse_process_behind(mailbox, make_config, worker_process):
    """SIGKILL gives a worker no chance to stop its parse processes: they go with it."""
    mailbox.append_many(numbered(1500))
    worker = worker_process(make_config(DEBUG, batch_size=25), "run")
    worker.wait_for(r"a parse process is ready", timeout=30)  # up and waiting for work, not still starting
    parsers = [pid for pid, command in descendants(worker.proc.pid) if "spawn_main" in command]
    assert parsers, "the backlog should be parsed in parse processes"
    exits = [os.pidfd_open(pid) for pid in parsers]  # readable once the process has ended
    try:
        worker.stop(signal.SIGKILL)
        deadline = time.monotonic() + 10
        waiting = list(exits)
        while waiting and (left := deadline - time.monotonic()) > 0:
            ended, _, _ = select.select(waiting, [], [], left)
            waiting = [fd for fd in waiting if fd not in ended]
    finally:
        for fd in exits:
            os.close(fd)
    assert not [pid for pid in parsers if running(pid)]


@pytest.fixture
def own_dovecot():
    server = Dovecot.create()
    server.start()
    yield server
    server.remove()


def test_worker_survives_the_server_restarting_under_it(own_dovecot, make_config, worker_process):
    mailbox = Mailbox(own_dovecot, "restart@example.com")
    config = make_config(DEBUG, on=mailbox)
    worker = worker_process(config)
    worker.wait_for(r"waiting for new mail")
    mailbox.append(eml("praise.eml"))
    worker.wait_for(r"stored 1 new message")

    mark = worker.mark()
    own_dovecot.stop()
    worker.wait_for(r"IMAP trouble .* reconnecting in", start=mark)
    own_dovecot.start()
    worker.wait_for(r"connected to 127\.0\.0\.1", start=mark, timeout=20)
    mark = worker.mark()
    mailbox.append(eml("question.eml"))
    worker.wait_for(r"stored 1 new message", start=mark, timeout=20)
    assert worker.stop() == 0
    assert count(config)[:2] == (2, 2)


@pytest.mark.parametrize("idle", [True, False])
def test_a_reply_approved_while_the_worker_waits_goes_out_within_seconds(
        idle, mailbox, make_config, worker_process, smtp_sink, model_dir):
    from datetime import datetime, timezone

    from worker.desk.review import approve

    from .conftest import smtp_toml

    mailbox.append(eml("gmail_complaint_delivery.eml"))
    config = make_config(DEBUG + smtp_toml(smtp_sink, model_dir, "check_seconds = 1"), idle=idle, poll_seconds=300)
    worker = worker_process(config)
    worker.wait_for(r"waiting for new mail in INBOX \((IDLE, up to|polling, next check in) 300 s\)", timeout=30)
    store = Store.open(config.store.path)
    try:
        (draft,) = store.drafts(state="pending")
        mark = worker.mark()
        started = time.monotonic()
        approve(store, config, draft["id"], "Tom Baker", datetime.now(timezone.utc))  # as the web page does
    finally:
        store.close()
    worker.wait_for(r"approved replies or due jobs are waiting", timeout=5, start=mark)
    worker.wait_for(r"sent .* to sarah\.whitfield@gmail\.com", timeout=5, start=mark)
    assert time.monotonic() - started < 5 and len(smtp_sink.messages) == 1
    assert worker.stop() == 0
