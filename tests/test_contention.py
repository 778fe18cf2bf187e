"""Several processes on one database, and a store that misbehaves: nothing is lost, nothing is
done twice, and no worker quits quietly."""

import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from worker.cli import main
from worker.config import parse_config
from worker.demo.dovecot import free_port
from worker.loop import Worker
from worker.desk.review import draft_pending
from worker.store import Fetched, Store

from .conftest import PASSWORD_ENV, ROOT, eml, mail, smtp_toml
from .test_send import NOW, approved_reply


def fetched(uid: int, raw: bytes) -> tuple[Fetched, str]:
    from worker.mail.parse import sniff_message_id

    return Fetched(uid, raw, len(raw), NOW), sniff_message_id(raw)


def with_store_keys(config, **keys):
    """The config with more [store] keys (make_config writes the table itself)."""
    text = open(config.path).read()
    extra = "".join(f"\n{key} = {value}" for key, value in keys.items())
    text = text.replace(f'path = "{config.store.path}"', f'path = "{config.store.path}"{extra}', 1)
    open(config.path, "w").write(text)
    return parse_config(text, config.path)


# -- identity ------------------------------------------------------------------------------------


def test_a_message_id_reused_by_another_sender_is_a_new_message(store):
    alice = mail("form-1", "alice@example.org", "Contact form", "My parcel never came.", hours_ago=2)
    bob = mail("form-1", "bob@example.org", "Contact form", "I was charged twice.", hours_ago=1)
    assert b"Message-ID: <form-1@example.net>" in alice and b"Message-ID: <form-1@example.net>" in bob
    assert len(store.store_batch("INBOX", 1, [fetched(1, alice)], NOW)) == 1
    assert len(store.store_batch("INBOX", 1, [fetched(2, bob)], NOW)) == 1  # not taken for Alice's
    rows = list(store.db.query("SELECT id, message_id FROM messages ORDER BY id"))
    assert [r["message_id"] for r in rows] == ["form-1@example.net"] * 2


def test_a_copy_of_one_message_is_one_record_with_two_locations(store):
    original = mail("same-1", "alice@example.org", "Late order", "Where is order 1234?", hours_ago=1)
    # Delivered to a second mailbox: other trace headers, the same sender, date and body.
    copy = b"Received: from mx2.example.com by imap.example.com\nDelivered-To: billing@example.com\n" + original
    assert len(store.store_batch("INBOX", 1, [fetched(1, original)], NOW)) == 1
    assert store.store_batch("Archive", 7, [fetched(3, copy)], NOW) == []
    (row,) = store.db.query("SELECT id FROM messages")
    assert len(store.message(row["id"])["locations"]) == 2


def test_a_message_stored_before_content_keys_is_still_recognised(store):
    raw = mail("old-1", "alice@example.org", "Late order", "Where is order 1234?", hours_ago=1)
    store.store_batch("INBOX", 1, [fetched(1, raw)], NOW)
    store._exec("UPDATE messages SET content_key = NULL")  # as a database from before migration 14
    assert store.store_batch("INBOX", 2, [fetched(1, raw)], NOW) == []  # a new UIDVALIDITY: same message
    assert store._exec("SELECT count(*), min(content_key IS NOT NULL) FROM messages").fetchone() == (1, 1)


# -- workers racing ------------------------------------------------------------------------------


def test_two_workers_drafting_the_same_message_write_one_draft_and_neither_fails(
        mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    mailbox.append(eml("gmail_complaint_delivery.eml"))
    config = make_config(smtp_toml(smtp_sink, model_dir))
    worker = Worker(config, store)
    with worker.inbox:
        worker.poll(NOW)
        worker.detect(NOW)
    seen_by_the_other = store.messages_to_draft()  # read before this worker drafts
    assert draft_pending(store, config, NOW).created == 1
    monkeypatch.setattr(store, "messages_to_draft", lambda: seen_by_the_other)
    assert draft_pending(store, config, NOW).created == 0  # no IntegrityError, no second draft
    assert store._exec("SELECT count(*) FROM drafts").fetchone()[0] == 1


def test_processes_opening_a_new_database_at_once_all_migrate_it(tmp_path):
    path = tmp_path / "fresh.db"
    code = f"from worker.store import Store; Store.open({str(path)!r}).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE) for _ in range(6)]
    errors = [proc.communicate(timeout=60)[1].decode() for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 6, errors
    store = Store.open(str(path))
    from worker.store.migrations import MIGRATIONS

    assert store.schema_version() == MIGRATIONS[-1][0]
    assert store._exec("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
    store.close()


# -- the store misbehaving -----------------------------------------------------------------------


def test_a_full_disk_says_so_in_one_line_not_as_a_failed_rollback(mailbox, make_config, tmp_path, monkeypatch):
    mailbox.append(mail("big-1", "alice@example.org", "Photos", "Here they are. " * 20_000, hours_ago=1))
    config = make_config()
    full = Store.open(config.store.path)
    full.close()
    opened = Store.open

    def nearly_full(path, busy_timeout=30.0):  # SQLite's own page limit stands in for a full disk
        store = opened(path, busy_timeout)
        pages = store._exec("PRAGMA page_count").fetchone()[0]
        store._exec(f"PRAGMA max_page_count = {pages}")
        return store

    monkeypatch.setattr(Store, "open", staticmethod(nearly_full))
    result = CliRunner().invoke(main, ["--config", config.path, "poll", "--once"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    (line,) = [text for text in result.output.splitlines() if text.startswith("error:")]
    assert "is full" in line and config.store.path in line and "rollback" not in result.output


def test_a_worker_waits_out_a_long_write_lock_and_goes_on(mailbox, make_config, worker_process):
    config = with_store_keys(make_config('\n[log]\nlevel = "debug"\n'), busy_timeout_seconds=0.3)
    Store.open(config.store.path).close()
    run = worker_process(config)
    run.wait_for(r"waiting for new mail in INBOX", timeout=30)
    holder = sqlite3.connect(config.store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock for a long time
    try:
        mailbox.append(mail("locked-1", "alice@example.org", "Late order", "Where is my order?", hours_ago=0))
        run.wait_for(r"stayed locked by another process .*; trying again", timeout=30)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    run.wait_for(r"stored 1 new message", timeout=30)  # nobody had to restart it
    assert run.proc.poll() is None
    assert run.stop() == 0


def test_a_missing_sent_folder_keeps_sending_and_status_names_the_key(mailbox, make_config, store, smtp_sink, model_dir):
    from worker.mail.inbox import Inbox
    from worker.desk.outbox import Sender

    config, _, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    config = parse_config(open(config.path).read().replace('password_env', 'sent_folder = "No Such Folder"\npassword_env', 1),
                          config.path)
    with Inbox(config) as inbox:
        assert Sender(config, store, inbox).send_due(NOW).sent == 1
    assert len(smtp_sink.messages) == 1
    row = store.outbox_row(outbox_id)
    assert row["state"] == "sent" and row["filed_at"] is None and "No Such Folder" in row["last_error"]
    assert "imap.sent_folder" in row["last_error"]
    store._exec("UPDATE outbox SET sent_at = '2020-01-01T00:00:00+00:00'")  # waiting for long enough
    store._exec("INSERT OR REPLACE INTO mailboxes (mailbox, folder, last_check_at) VALUES ('default', 'INBOX', ?)",
                [datetime.now(timezone.utc).isoformat()])
    result = CliRunner().invoke(main, ["--config", config.path, "status"])
    assert result.exit_code == 1
    assert "1 sent message(s) not filed in the Sent folder (imap.sent_folder)" in result.output


@pytest.mark.parametrize("server", ["running", "unreachable"])
def test_run_with_a_fatal_error_exits_non_zero_with_one_line(mailbox, make_config, monkeypatch, server):
    config = make_config()
    if server == "unreachable":  # the password is checked before connecting, not after the retries
        text = open(config.path).read()
        open(config.path, "w").write(text.replace(f"port = {mailbox.port}", f"port = {free_port()}", 1))
    monkeypatch.delenv(PASSWORD_ENV)
    proc = subprocess.run([sys.executable, "-m", "worker.cli", "--config", config.path, "run"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and PASSWORD_ENV in errors[0] and "amends run" in errors[0], proc.stderr
