"""A customer's data on request: everything handed over, or erased without the mailbox bringing it back."""

import json
from datetime import timedelta

from click.testing import CliRunner

from worker.cli import main
from worker.desk.customers import erase_customer, export_customer
from worker.desk.users import add_user
from worker.loop import Worker

from .conftest import eml, smtp_toml
from .test_send import NOW, approved_reply

SARAH = "sarah.whitfield@gmail.com"


def everything_stored(store):
    for (table,) in store._exec("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        columns = [row[1] for row in store._exec(f"PRAGMA table_info({table})")]
        for row in store._exec(f"SELECT * FROM {table}").fetchall():
            for column, value in zip(columns, row):
                if isinstance(value, (str, bytes)):
                    yield table, column, (value.decode("utf-8", "replace") if isinstance(value, bytes) else value).lower()


def sarah_answered_and_someone_else_waiting(mailbox, make_config, store, smtp_sink, model_dir):
    config, draft, _ = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    mailbox.append(eml("base64_body.eml"))  # another customer, still waiting for a reply
    worker = Worker(config, store)
    with worker.inbox:
        worker.tick(NOW)  # sends Sarah's reply, schedules her follow-up, drafts the other one
    assert len(smtp_sink.messages) == 1 and store.jobs(state="scheduled")
    return config, worker, draft


def test_an_export_holds_everything_about_the_customer_and_nothing_about_others(mailbox, make_config, store,
                                                                              smtp_sink, model_dir):
    sarah_answered_and_someone_else_waiting(mailbox, make_config, store, smtp_sink, model_dir)
    data = export_customer(store, " Sarah.Whitfield@GMAIL.com ", NOW)
    json.dumps(data, default=str)  # it is JSON
    assert data["address"] == SARAH and len(data["conversations"]) == 1
    directions = sorted(m["direction"] for m in data["messages"])
    assert directions == ["in", "out"]  # her complaint and our reply
    assert all("desk" in m["raw"].lower() or m["direction"] == "out" for m in data["messages"])
    assert data["drafts"][0]["state"] == "sent" and data["outbox"][0]["to_addr"] == SARAH
    assert {j["kind"] for j in data["jobs"]} >= {"follow_up"} and data["classifications"]
    assert "ken.okafor" not in json.dumps(data, default=str)


def test_erasure_wipes_the_words_cancels_what_was_due_and_the_mailbox_cannot_bring_them_back(
        mailbox, make_config, store, smtp_sink, model_dir):
    config, worker, draft = sarah_answered_and_someone_else_waiting(mailbox, make_config, store, smtp_sink, model_dir)
    counts = erase_customer(store, SARAH, "Tom Baker", NOW)
    assert counts["conversations"] == 1 and counts["messages"] == 2 and counts["drafts"] == 1
    for table, column, value in everything_stored(store):  # no address, no words, anywhere
        assert "sarah" not in value and "standing desk" not in value, (table, column, value[:300])
    assert store._exec("SELECT count(*) FROM messages WHERE state = 'erased'").fetchone()[0] == 2
    assert store.draft(draft["id"])["body"] == "[erased]"
    assert not [j for j in store.jobs(state="scheduled") if j["conversation_id"] == draft["conversation_id"]]
    (audit,) = [row for row in store._exec("SELECT actor, detail FROM audit_log WHERE action = 'erased customer'")]
    assert audit[0] == "Tom Baker" and SARAH not in audit[1] and "address_sha256" in audit[1]
    other = store.drafts(state="pending")
    assert len(other) == 1 and other[0]["to_addr"] != SARAH  # the other customer is untouched
    with worker.inbox:  # her mail is still in the shared mailbox: it is known, not imported again
        summary = worker.tick(NOW + timedelta(days=30))
    assert summary.new == 0 and len(smtp_sink.messages) == 1  # and no follow-up or survey reached her
    assert not [d for d in store.drafts() if d["to_addr"] == SARAH]


def test_the_erase_command_names_who_did_it_and_refuses_a_stranger(mailbox, make_config, store, smtp_sink, model_dir):
    config, _, _ = sarah_answered_and_someone_else_waiting(mailbox, make_config, store, smtp_sink, model_dir)
    runner = CliRunner()
    base = ["--config", config.path, "customer"]
    refused = runner.invoke(main, [*base, "erase", SARAH, "--by", "Nobody", "--yes"])
    assert refused.exit_code == 1 and "there is no user called 'Nobody'" in refused.output
    add_user(store, "Tom Baker", "correct horse battery", False, NOW)
    asked = runner.invoke(main, [*base, "erase", SARAH, "--by", "Tom Baker"], input="n\n")
    assert asked.exit_code == 1 and store._exec("SELECT count(*) FROM messages WHERE state = 'erased'").fetchone()[0] == 0
    done = runner.invoke(main, [*base, "erase", SARAH, "--by", "Tom Baker", "--yes"])
    assert done.exit_code == 0 and "Erased sarah.whitfield@gmail.com: 2 message(s) in 1 case(s)" in done.output
    again = runner.invoke(main, [*base, "erase", SARAH, "--by", "Tom Baker", "--yes"])
    assert again.exit_code == 1 and "nothing is held about" in again.output
    exported = runner.invoke(main, [*base, "export", "not-an-address"])
    assert exported.exit_code == 1 and "is not an email address" in exported.output
