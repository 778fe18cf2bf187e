"""Listening against a real Dovecot: new mail only, nothing changed, nothing lost or repeated."""

import json
from datetime import datetime, timezone

from click.testing import CliRunner

from worker.cli import main
from worker.loop import Worker
from worker.store import Store

from .conftest import AUTOMATED_FIXTURES, HUMAN_FIXTURES, eml

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def poll(config, store, now=NOW):
    worker = Worker(config, store)
    with worker.inbox:
        return worker.tick(now)


def all_fixtures():
    return [eml(n) for n in HUMAN_FIXTURES + AUTOMATED_FIXTURES]


def test_reads_every_message_once_and_never_changes_flags(mailbox, make_config, store):
    raws = all_fixtures()
    for i, raw in enumerate(raws):
        flags = ((b"\\Seen",), (), (b"\\Flagged",), (b"\\Answered", b"\\Seen"))[i % 4]
        mailbox.append(raw, flags=flags)
    before = mailbox.flags()
    summary = poll(make_config(batch_size=7), store)
    assert summary.fetched == len(raws) and summary.new == len(raws)
    assert mailbox.flags() == before
    assert store.counts()["parsed"] == len(raws)
    assert store.counts()["automated"] == len(AUTOMATED_FIXTURES)
    assert poll(make_config(), store).fetched == 0  # only new mail on the next pass


def test_raw_bytes_are_kept_exactly(mailbox, make_config, store):
    uid = mailbox.append(eml("shift_jis.eml"))
    poll(make_config(), store)
    (row,) = store.messages()
    assert row["uid"] == uid
    assert store.raw(row["id"]).replace(b"\r\n", b"\n") == eml("shift_jis.eml")


def test_a_restart_with_a_fresh_cursor_stores_nothing_twice(mailbox, make_config, tmp_path):
    for name in HUMAN_FIXTURES[:10]:
        mailbox.append(eml(name))
    config = make_config()
    first = Store.open(config.store.path)
    poll(config, first)
    first.db.execute("UPDATE mailboxes SET last_uid = 0")  # as if the cursor were lost
    first.close()
    again = Store.open(config.store.path)
    summary = poll(config, again)
    assert summary.fetched == 10 and summary.new == 0
    assert again.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 10


def test_uidvalidity_change_rereads_the_folder_without_duplicates(mailbox, make_config, store):
    config = make_config(folders=["Support"])
    mailbox.append(eml("question.eml"), folder="Support")
    mailbox.append(eml("no_message_id.eml"), folder="Support")
    poll(config, store)
    old = store.mailbox("Support")["uidvalidity"]
    with mailbox.client() as client:
        client.delete_folder("Support")
    mailbox.append(eml("question.eml"), folder="Support")
    mailbox.append(eml("no_message_id.eml"), folder="Support")
    mailbox.append(eml("praise.eml"), folder="Support")
    summary = poll(config, store)
    assert store.mailbox("Support")["uidvalidity"] != old
    assert summary.fetched == 3 and summary.new == 1
    assert store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 3


def test_the_same_message_in_two_folders_is_one_record(mailbox, make_config, store):
    mailbox.append(eml("praise.eml"), folder="INBOX")
    mailbox.append(eml("praise.eml"), folder="Escalations")
    poll(make_config(folders=["INBOX", "Escalations"]), store)
    (row,) = store.messages()
    assert {loc["folder"] for loc in store.message(row["id"])["locations"]} == {"INBOX", "Escalations"}


def test_replies_join_the_conversation_by_headers_and_by_subject(mailbox, make_config, store):
    for name in ("gmail_complaint_delivery.eml", "gmail_reply_quoted.eml",
                 "thread_first.eml", "thread_second_no_headers.eml", "question.eml"):
        mailbox.append(eml(name))
    poll(make_config(), store)
    conv = {r["subject"]: r["conversation_id"] for r in store.messages()}
    assert conv["Order #48213 still hasn't arrived"] == conv["Re: Order #48213 still hasn't arrived"]
    assert conv["Wifi router keeps dropping"] == conv["RE: Re: Wifi router keeps dropping"]
    assert len(set(conv.values())) == 3


def test_subject_fallback_respects_the_window(mailbox, make_config, store):
    mailbox.append(eml("thread_first.eml"))
    mailbox.append(eml("thread_second_no_headers.eml"))  # three days later
    poll(make_config("[threading]\nsubject_window_days = 2\n"), store)
    assert len({r["conversation_id"] for r in store.messages()}) == 2


def test_unparseable_and_oversized_mail_is_quarantined_and_the_rest_goes_on(mailbox, make_config, store):
    mailbox.append(eml("not_an_email.eml"))
    mailbox.append(eml("large_attachment.eml"))
    mailbox.append(eml("praise.eml"))
    summary = poll(make_config(max_message_bytes=100_000), store)
    assert summary.ingest.quarantined == 2 and summary.ingest.parsed == 1
    reasons = sorted(r["quarantine_reason"] for r in store.quarantined())
    assert reasons[0].startswith("no headers")
    assert reasons[1].startswith("too large") and "imap.max_message_bytes" in reasons[1]


def test_quarantine_commands_list_show_and_retry(mailbox, make_config, store):
    mailbox.append(eml("large_attachment.eml"))
    config = make_config(max_message_bytes=100_000)
    poll(config, store)
    (row,) = store.quarantined()
    runner = CliRunner()
    listed = runner.invoke(main, ["--config", config.path, "quarantine", "list"])
    assert "too large" in listed.output
    shown = runner.invoke(main, ["--config", config.path, "quarantine", "show", str(row["id"])])
    assert "Warranty claim" in shown.output
    raw = runner.invoke(main, ["--config", config.path, "quarantine", "show", str(row["id"]), "--raw"])
    assert raw.exit_code == 0 and b"Warranty claim" in raw.stdout_bytes
    still = runner.invoke(main, ["--config", config.path, "quarantine", "retry", str(row["id"])])
    assert still.exit_code == 1 and "still quarantined" in still.output
    make_config(max_message_bytes=10_000_000)  # the admin raises the limit
    retried = runner.invoke(main, ["--config", config.path, "quarantine", "retry", str(row["id"])])
    assert retried.exit_code == 0, retried.output
    assert store.message(row["id"])["state"] == "parsed"


def test_messages_left_unparsed_by_a_crash_are_processed_on_the_next_pass(mailbox, make_config, store):
    mailbox.append(eml("praise.eml"))
    config = make_config()
    poll(config, store)
    store.db.execute("UPDATE messages SET state = 'new'")
    summary = poll(config, store)
    assert (summary.fetched, summary.ingest.parsed) == (0, 1)
    assert store.counts()["parsed"] == 1


def test_cli_poll_messages_list_json_and_show(mailbox, make_config):
    mailbox.append(eml("gmail_complaint_delivery.eml"))
    mailbox.append(eml("ooo_exchange.eml"))
    config = make_config()
    runner = CliRunner()
    result = runner.invoke(main, ["--config", config.path, "poll", "--once"])
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output
    rows = json.loads(runner.invoke(main, ["--config", config.path, "messages", "list", "--json"]).output)
    fields = {"id", "message_id", "folder", "uid", "from", "subject", "date", "conversation_id", "automated"}
    assert all(fields <= set(row) for row in rows)
    by_subject = {r["subject"]: r for r in rows}
    assert by_subject["Automatic reply: Your ticket 55231"]["automated"].startswith("Auto-Submitted")
    assert by_subject["Order #48213 still hasn't arrived"]["automated"] is None
    shown = runner.invoke(
        main, ["--config", config.path, "messages", "show", str(by_subject["Order #48213 still hasn't arrived"]["id"])]
    )
    assert "standing desk" in shown.output
    missing = runner.invoke(main, ["--config", config.path, "messages", "show", "9999"])
    assert missing.exit_code == 1 and "no message with id 9999" in missing.output


def test_status_shows_the_last_check_and_warns_when_stale(mailbox, make_config, store):
    config = make_config(stale_after_minutes=5)
    runner = CliRunner()
    never = runner.invoke(main, ["--config", config.path, "status"])
    assert never.exit_code == 1 and "not checked" in never.output
    poll(config, store, now=datetime.now(timezone.utc))
    fresh = runner.invoke(main, ["--config", config.path, "status"])
    assert fresh.exit_code == 0 and "s ago" in fresh.output


def test_wrong_password_is_a_clear_error(mailbox, make_config, monkeypatch):
    config = make_config()
    monkeypatch.setenv("AMENDS_TEST_IMAP_PASSWORD", "wrong")
    result = CliRunner().invoke(main, ["--config", config.path, "poll", "--once"])
    assert result.exit_code == 1
    assert "login" in result.output and "AMENDS_TEST_IMAP_PASSWORD" in result.output
    assert "wrong" not in result.output.replace("wrong password", "")


def test_missing_folder_is_a_clear_error(mailbox, make_config):
    config = make_config(folders=["NoSuchFolder"])
    result = CliRunner().invoke(main, ["--config", config.path, "poll", "--once"])
    assert result.exit_code == 1 and "'NoSuchFolder' does not exist" in result.output


def test_every_command_has_help():
    runner = CliRunner()
    commands = [[], ["poll"], ["run"], ["status"], ["demo"], ["messages"], ["messages", "list"],
                ["messages", "show"], ["quarantine"], ["quarantine", "list"], ["quarantine", "show"],
                ["quarantine", "retry"]]
    for args in commands:
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, args


def test_a_one_shot_command_with_the_server_down_says_so_in_one_line(make_config, mailbox):
    from pathlib import Path

    from worker.demo.dovecot import free_port

    config = make_config()
    path = Path(config.path)
    port = free_port()
    path.write_text(path.read_text().replace(f"port = {mailbox.port}", f"port = {port}"))
    for command in (["poll", "--once"], ["jobs", "run-due"]):
        result = CliRunner().invoke(main, ["--config", str(path), *command])
        assert result.exit_code == 1, result.output
        assert f"cannot reach the IMAP server at 127.0.0.1:{port} (ConnectionRefusedError" in result.output
        assert "Traceback" not in result.output


def test_a_wrong_port_or_security_names_the_key_that_fixes_it(make_config, mailbox):
    import socket
    from pathlib import Path

    config = make_config()
    path = Path(config.path)
    text = path.read_text()
    with socket.socket() as silent:  # a port that accepts and says nothing: not IMAP
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        path.write_text(text.replace(f"port = {mailbox.port}", f"port = {port}\ntimeout_seconds = 1", 1))
        result = CliRunner().invoke(main, ["--config", str(path), "poll", "--once"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"127.0.0.1:{port} accepted the connection but sent no IMAP greeting in 1 s" in result.output
    assert "imap.port" in result.output
    path.write_text(text.replace('security = "none"', 'security = "ssl"', 1))  # TLS on a plain port
    result = CliRunner().invoke(main, ["--config", str(path), "poll", "--once"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"no TLS at the IMAP server at 127.0.0.1:{mailbox.port}" in result.output
    assert "check imap.security" in result.output


def test_news_announced_during_the_pre_idle_search_wakes_the_wait_at_once(mailbox, make_config):
    """Mail appended while the worker searches before IDLE: Dovecot says "* N EXISTS" in the
    SEARCH response, but the search result was computed just before. Found by the benchmark."""
    import threading
    import time

    from worker.mail.inbox import Inbox

    mailbox.append(eml("question.eml"))
    with Inbox(make_config()) as inbox:
        inbox.select("INBOX")
        mailbox.append(eml("praise.eml"))  # UID 2, while we look
        assert inbox.new_uids(2) == []  # as if the search had run a moment before the APPEND
        started = time.monotonic()
        assert inbox.wait(5, threading.Event()) is True
        assert time.monotonic() - started < 1


def test_a_message_without_a_date_is_dated_when_the_server_received_it_whatever_the_local_zone(
        mailbox, make_config, store, monkeypatch):
    import time

    received = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    with mailbox.client() as client:
        client.append("INBOX", b"From: ana@example.net\r\nSubject: no date\r\n\r\nWhere is my order?\r\n",
                      msg_time=received)
    monkeypatch.setenv("TZ", "America/New_York")  # a worker on a machine that is not on UTC
    time.tzset()
    try:
        poll(make_config(), store)
    finally:
        monkeypatch.undo()
        time.tzset()
    (row,) = store.db.query("SELECT date, internal_date FROM messages")
    assert row == {"date": "2026-11-02T08:00:00+00:00", "internal_date": "2026-11-02T08:00:00+00:00"}
