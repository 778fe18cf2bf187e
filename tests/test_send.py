"""Approve and send against real servers: each reply reaches the SMTP server exactly once."""

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from worker.loop import Worker
from worker.desk.outbox import UNCERTAIN, Sender
from worker.desk.review import approve, reject
from worker.demo.smtp_sink import SentFolder
from worker.desk.users import add_user
from worker.store import Store

from .conftest import ROOT, eml, smtp_toml

NOW = datetime.now(timezone.utc) - timedelta(minutes=1)  # the sender subprocess uses the real clock


def approved_reply(mailbox, make_config, store, smtp_sink, model_dir, extra=""):
    """A complaint in the inbox, its draft, approved: one outbox row ready to send."""
    mailbox.append(eml("gmail_complaint_delivery.eml"))
    config = make_config(smtp_toml(smtp_sink, model_dir, extra))
    worker = Worker(config, store)
    with worker.inbox:
        summary = worker.tick(NOW)
    assert summary.drafts.created == 1
    (draft,) = store.drafts(state="pending")
    outbox_id = approve(store, config, draft["id"], "Tom Baker", NOW)
    return config, draft, outbox_id


def send_once(config, failpoint=None):
    env = dict(os.environ)
    if failpoint:
        env["AMENDS_FAILPOINT"] = failpoint
    return subprocess.Popen([sys.executable, "-m", "worker.cli", "--config", config.path, "send", "--once"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_at(config, failpoint):
    """Run the sender until it reaches the failpoint (where it stops itself), then SIGKILL it."""
    proc = send_once(config, failpoint)
    _, status = os.waitpid(proc.pid, os.WUNTRACED)  # returns when the process stops: no sleeping
    assert os.WIFSTOPPED(status), f"the sender never reached {failpoint}"
    os.kill(proc.pid, signal.SIGKILL)
    os.waitpid(proc.pid, 0)
    proc.returncode = -9


def finish(config):
    proc = send_once(config)
    assert proc.wait(timeout=60) == 0


def sent_folder_ids(mailbox):
    with mailbox.client() as client:
        client.select_folder("Sent", readonly=True)
        data = client.fetch(client.search("ALL"), ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    return [d[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().split(":", 1)[1].strip() for d in data.values()]


def test_approved_reply_is_sent_once_threaded_and_filed(mailbox, make_config, store, smtp_sink, model_dir):
    config, draft, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    finish(config)
    finish(config)  # a second run sends nothing more
    (received,) = smtp_sink.messages
    msg = received.message
    assert received.rcpt_tos == ["sarah.whitfield@gmail.com"]
    assert msg["In-Reply-To"] == "<CAH7x9Qm1pLw3Kd8zR4n@mail.gmail.com>"
    assert msg["Subject"] == "Re: Order #48213 still hasn't arrived"
    body = msg.get_body(("plain",)).get_content()
    assert body.startswith("Hi Sarah,") and "Tom Baker" in body
    assert store.draft(draft["id"])["state"] == "sent"
    assert sent_folder_ids(mailbox) == [msg["Message-ID"]]


def test_the_customers_answer_threads_back_to_our_reply(mailbox, make_config, store, smtp_sink, model_dir):
    config, draft, _ = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    finish(config)
    ours = smtp_sink.messages[0].message["Message-ID"].strip("<>")
    answer = (b"From: Sarah Whitfield <sarah.whitfield@gmail.com>\nTo: support@example.com\n"
              b"Subject: Re: Order #48213 still hasn't arrived\nMessage-ID: <answer-1@gmail.com>\n"
              b"In-Reply-To: <" + ours.encode() + b">\nDate: Wed, 25 Nov 2026 10:00:00 +0000\n\nStill nothing!\n")
    mailbox.append(answer)
    worker = Worker(config, store)
    with worker.inbox:
        worker.tick(NOW + timedelta(days=2))
    answer_row = next(r for r in store.messages() if r["message_id"] == "answer-1@gmail.com")
    assert answer_row["conversation_id"] == draft["conversation_id"]


@pytest.mark.parametrize("failpoint", ["smtp-before-connect", "smtp-before-data", "after-mark-sent"])
def test_killed_before_the_server_could_have_it_or_after_recording_it(failpoint, mailbox, make_config, store, smtp_sink, model_dir):
    config, draft, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    kill_at(config, failpoint)
    finish(config)
    assert len(smtp_sink.messages) == 1
    assert store.outbox_row(outbox_id)["state"] == "sent"
    assert len(sent_folder_ids(mailbox)) == 1


def provider_files_sent(mailbox, smtp_sink):
    smtp_sink.handler.file_in_sent = SentFolder("127.0.0.1", mailbox.port, mailbox.user, mailbox.server.password)


def test_killed_after_the_server_accepted_with_a_provider_that_files_sent_mail(mailbox, make_config, store, smtp_sink, model_dir):
    provider_files_sent(mailbox, smtp_sink)
    config, draft, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir, "provider_saves_sent = true")
    kill_at(config, "smtp-after-accept")
    finish(config)
    assert len(smtp_sink.messages) == 1
    assert store.outbox_row(outbox_id)["state"] == "sent"


def test_killed_while_the_server_holds_the_message_with_a_provider_that_files_sent_mail(mailbox, make_config, store, smtp_sink, model_dir):
    import threading

    provider_files_sent(mailbox, smtp_sink)
    smtp_sink.handler.hold = threading.Event()
    config, draft, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir, "provider_saves_sent = true")
    proc = send_once(config)
    assert smtp_sink.handler.hold.wait(30)  # the server has the message and has not answered yet
    proc.kill()
    proc.wait()
    smtp_sink.handler.hold = None
    smtp_sink.handler.release.set()
    finish(config)
    assert len(smtp_sink.messages) == 1
    assert store.outbox_row(outbox_id)["state"] == "sent"


def test_killed_after_acceptance_without_evidence_is_held_for_a_person_never_resent(mailbox, make_config, store, smtp_sink, model_dir):
    config, draft, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    kill_at(config, "smtp-after-accept")
    finish(config)
    finish(config)
    assert len(smtp_sink.messages) == 1
    row = store.outbox_row(outbox_id)
    assert row["state"] == "failed" and row["last_error"] == UNCERTAIN
    assert store.draft(draft["id"])["state"] == "failed"


def test_temporary_failures_retry_with_backoff_then_succeed(mailbox, make_config, store, smtp_sink, model_dir):
    config, draft, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    smtp_sink.handler.reply = "451 4.3.0 try again later"
    with Worker(config, store).inbox as inbox:
        sender = Sender(config, store, inbox)
        assert sender.send_due(NOW).retried == 1
        row = store.outbox_row(outbox_id)
        assert row["state"] == "queued" and row["last_error"].startswith("451")
        assert sender.send_due(NOW).retried == 0  # not due yet
        smtp_sink.handler.reply = "250 OK"
        assert sender.send_due(NOW + timedelta(hours=2)).sent == 1
    assert len(smtp_sink.messages) == 1


def test_permanent_failure_marks_the_draft_failed_with_the_servers_words(mailbox, make_config, store, smtp_sink, model_dir):
    config, draft, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    smtp_sink.handler.reply = "550 5.1.1 mailbox unavailable"
    with Worker(config, store).inbox as inbox:
        assert Sender(config, store, inbox).send_due(NOW).failed == 1
    assert store.draft(draft["id"])["state"] == "failed"
    assert "550 5.1.1 mailbox unavailable" in store.draft(draft["id"])["error"]
    # A person fixes the cause and decides to send it again: a new message, sent once.
    smtp_sink.handler.reply = "250 OK"
    approve(store, config, draft["id"], "Tom Baker", NOW)
    with Worker(config, store).inbox as inbox:
        assert Sender(config, store, inbox).send_due(NOW + timedelta(minutes=5)).sent == 1
    assert len(smtp_sink.messages) == 1 and store.draft(draft["id"])["state"] == "sent"


def test_retries_stop_after_max_attempts(mailbox, make_config, store, smtp_sink, model_dir):
    config, draft, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir, "max_attempts = 2")
    smtp_sink.handler.reply = "421 4.7.0 busy"
    with Worker(config, store).inbox as inbox:
        sender = Sender(config, store, inbox)
        sender.send_due(NOW)
        assert sender.send_due(NOW + timedelta(days=1)).failed == 1
    assert "gave up after 2 attempts" in store.outbox_row(outbox_id)["last_error"]


def test_unreachable_smtp_server_is_a_temporary_failure(mailbox, make_config, store, smtp_sink, model_dir):
    config, draft, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    smtp_sink.stop()
    with Worker(config, store).inbox as inbox:
        assert Sender(config, store, inbox).send_due(NOW).retried == 1
    assert store.outbox_row(outbox_id)["state"] == "queued"


def test_only_pending_drafts_can_be_approved_and_rejection_needs_a_reason(mailbox, make_config, store, smtp_sink, model_dir):
    from worker.desk.review import ReviewError

    config, draft, _ = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    with pytest.raises(ReviewError, match="only a pending or failed draft"):
        approve(store, config, draft["id"], "Someone", NOW)
    with pytest.raises(ReviewError, match="only an open draft"):
        reject(store, draft["id"], "Someone", "too late", NOW)
    assert [a["action"] for a in store.audit_trail("draft", draft["id"])] == ["drafted", "approved"]


def test_a_new_customer_message_redrafts_and_keeps_the_reviewers_edits(mailbox, make_config, store, smtp_sink, model_dir):
    from worker.desk.review import carried_edits, save_edit

    mailbox.append(eml("gmail_complaint_delivery.eml"))
    config = make_config(smtp_toml(smtp_sink, model_dir))
    worker = Worker(config, store)
    with worker.inbox:
        worker.tick(NOW)
        (first,) = store.drafts(state="pending")
        save_edit(store, first["id"], store.draft(first["id"])["body"] + "\nP.S. Our driver will call ahead.", "Ann", NOW)
        mailbox.append(eml("gmail_reply_quoted.eml"))
        worker.tick(NOW)
    (second,) = store.drafts(state="pending")
    assert store.draft(first["id"])["state"] == "superseded"
    assert "+P.S. Our driver will call ahead." in carried_edits(store, store.draft(second["id"]))


def test_automated_mail_never_gets_a_draft(mailbox, make_config, store, smtp_sink, model_dir):
    for name in ("ooo_exchange.eml", "dsn_gmail.eml", "newsletter.eml"):
        mailbox.append(eml(name))
    worker = Worker(make_config(smtp_toml(smtp_sink, model_dir)), store)
    with worker.inbox:
        assert worker.tick(NOW).drafts.created == 0


def test_cli_drafts_list_approve_reject_and_send(mailbox, make_config, store, smtp_sink, model_dir, tmp_path):
    import json

    from click.testing import CliRunner

    from worker.cli import main

    mailbox.append(eml("gmail_complaint_delivery.eml"))
    mailbox.append(eml("base64_body.eml"))
    config = make_config(smtp_toml(smtp_sink, model_dir))
    runner = CliRunner()
    assert runner.invoke(main, ["--config", config.path, "poll", "--once"]).exit_code == 0
    rows = json.loads(runner.invoke(main, ["--config", config.path, "drafts", "list", "--json"]).output)
    assert {"id", "conversation_id", "message_id", "to", "subject", "severity", "category", "state", "created_at"} <= set(rows[0])
    by_to = {r["to"]: r for r in rows}
    nobody = runner.invoke(main, ["--config", config.path, "drafts", "approve", str(rows[0]["id"]), "--by", "Tom"])
    assert nobody.exit_code == 1 and "there is no user called 'Tom'" in nobody.output  # it would sign the reply
    people = Store.open(config.store.path)
    add_user(people, "Tom", "correct horse battery", False, datetime.now(timezone.utc))
    people.close()
    body = tmp_path / "body.txt"
    body.write_text("Hi Sarah,\n\nYour desk is on its way today. Sorry for the wait.\n")
    approve_sarah = runner.invoke(main, ["--config", config.path, "drafts", "approve", str(by_to["sarah.whitfield@gmail.com"]["id"]),
                                         "--by", "Tom", "--body-file", str(body)])
    assert approve_sarah.exit_code == 0, approve_sarah.output
    rejected = runner.invoke(main, ["--config", config.path, "drafts", "reject", str(by_to["ken.okafor@protonmail.com"]["id"]),
                                    "--by", "Tom", "--reason", "Already refunded by phone"])
    assert rejected.exit_code == 0
    sent = runner.invoke(main, ["--config", config.path, "send", "--once"])
    assert "Sent 1" in sent.output, sent.output
    (received,) = smtp_sink.messages
    assert "Your desk is on its way today." in received.message.get_body(("plain",)).get_content()
    states = {r["to"]: r["state"] for r in json.loads(runner.invoke(main, ["--config", config.path, "drafts", "list", "--json"]).output)}
    assert states == {"sarah.whitfield@gmail.com": "sent", "ken.okafor@protonmail.com": "rejected"}


def test_a_restarted_demo_sink_keeps_the_mail_it_wrote_before(tmp_path):
    import smtplib

    from worker.demo.dovecot import free_port
    from worker.demo.smtp_sink import SmtpSink

    for subject in ("first", "second"):
        sink = SmtpSink(free_port(), directory=tmp_path).start()
        try:
            with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
                smtp.sendmail("a@example.com", ["b@example.com"], f"Subject: {subject}\n\nhello\n")
        finally:
            sink.stop()
    assert sorted(p.name for p in tmp_path.glob("*.eml")) == ["0001.eml", "0002.eml"]
    assert "Subject: second" in (tmp_path / "0002.txt").read_text()
