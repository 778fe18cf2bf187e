"""Several mailboxes in one desk: each read on its own, each case answered from the mailbox the
customer wrote to, one queue for all; and an older single-mailbox database carried over."""

import dataclasses
import sqlite3
import threading
from datetime import datetime, timezone

import imapclient
import pytest
from click.testing import CliRunner

from worker.cli import main
from worker.config import ConfigError, parse_config
from worker.loop import Worker, run_desk
from worker.store.migrations import MIGRATIONS
from worker.desk.review import approve, draft_pending
from worker.store import Store

from .conftest import Mailbox, desk_toml, label, mail

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def two(dovecot, mailbox, smtp_sink, tmp_path):
    billing = Mailbox(dovecot, mailbox.user.replace("support", "billing"))
    path = tmp_path / "desk.toml"
    path.write_text(desk_toml(mailbox, billing, smtp_sink, tmp_path))
    config = parse_config(path.read_text(), str(path))
    store = Store.open(config.store.path)
    yield config, store, mailbox, billing
    store.close()


def test_each_mailbox_is_read_once_and_each_case_answered_from_its_own_address(two, smtp_sink):
    config, store, support, billing = two
    support.append(mail("s1", "Ann <ann@example.net>", "Parcel late", "My parcel never came.", 2, now=NOW))
    billing.append(mail("b1", "Bob <bob@example.net>", "Charged twice", "You charged me twice.", 1, now=NOW))
    for box in config.mailboxes:  # twice: nothing is stored twice
        for _ in range(2):
            worker = Worker(config.for_mailbox(box.name), store)
            with worker.inbox:
                worker.poll(NOW)
    rows = store.messages(limit=10)
    assert sorted((store.message(r["id"])["mailbox"], r["subject"]) for r in rows) == [
        ("billing", "Charged twice"), ("support", "Parcel late")]
    assert {(c["mailbox"], c["folder"]) for c in store.mailboxes()} == {  # Sent: for replies sent from elsewhere
        ("support", "INBOX"), ("billing", "INBOX"), ("support", "Sent"), ("billing", "Sent")}
    label(store, {"s1": (True, "medium", "delivery"), "b1": (True, "medium", "billing")}, NOW)
    draft_pending(store, config, NOW)
    assert {d["mailbox"] for d in store.drafts()} == {"support", "billing"}
    for draft in store.drafts():
        approve(store, config, draft["id"], "Tom Baker", NOW)
    for box in config.mailboxes:
        worker = Worker(config.for_mailbox(box.name), store)
        with worker.inbox:
            worker.sender.send_due(NOW)
    sent = {m.rcpt_tos[0]: m for m in smtp_sink.messages}
    to_ann, to_bob = sent["ann@example.net"], sent["bob@example.net"]
    assert to_ann.mail_from == support.user and to_ann.message["From"].addresses[0].addr_spec == support.user
    assert to_bob.mail_from == billing.user and to_bob.message["From"].addresses[0].display_name == "Billing"
    assert to_bob.message["In-Reply-To"] == "<b1@example.net>"
    assert to_bob.message.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip().endswith("Tom Baker\nThe billing team")
    # Each copy is filed in its own mailbox's Sent folder.
    for box, message in ((support, to_ann), (billing, to_bob)):
        with imapclient.IMAPClient("127.0.0.1", port=box.port, ssl=False) as client:
            client.login(box.user, box.server.password)
            client.select_folder("Sent", readonly=True)
            assert client.search(["HEADER", "Message-ID", message.message["Message-ID"]])


def test_amends_run_serves_every_mailbox_and_one_failing_leaves_the_others(two, smtp_sink):
    config, store, support, billing = two
    unreachable = dataclasses.replace(config.mailboxes[1], imap=dataclasses.replace(config.mailboxes[1].imap, port=1))
    config = dataclasses.replace(config, mailbox=(config.mailboxes[0], unreachable))
    support.append(mail("s2", "Ann <ann@example.net>", "Hello", "A question about sizes.", 1, now=NOW))
    stop = threading.Event()
    thread = threading.Thread(target=run_desk, args=(config, stop), daemon=True)
    thread.start()
    try:
        for _ in range(200):
            rows = store.messages(limit=5)
            errors = [c for c in store.mailboxes() if c["mailbox"] == "billing" and c["last_error"]]
            if rows and errors:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert [r["subject"] for r in store.messages(limit=5)] == ["Hello"]
    assert errors and "Connection refused" in errors[0]["last_error"]
    status = CliRunner().invoke(main, ["--config", config.path, "status"])
    assert "support" in status.output and "billing" in status.output


def test_the_written_config_keeps_each_mailboxs_own_settings(two):
    from worker.config import to_toml

    config = two[0]
    config = dataclasses.replace(config, mailbox=(config.mailboxes[0], dataclasses.replace(
        config.mailboxes[1], oauth=dataclasses.replace(config.mailboxes[1].oauth, client_id="billing-app"))))
    assert parse_config(to_toml(config), "run.toml").mailboxes == config.mailboxes


def test_mailbox_names_are_checked():
    with pytest.raises(ConfigError, match=r"mailbox\[1\]\.name.*names two mailboxes"):
        parse_config('[[mailbox]]\nname = "a"\nimap = { username = "a@x.example" }\n'
                     '[[mailbox]]\nname = "a"\nimap = { username = "b@x.example" }\n', "c.toml")
    with pytest.raises(ConfigError, match=r"mailbox\[0\]\.imap\.prot.*unknown key"):
        parse_config('[[mailbox]]\nname = "a"\nimap = { username = "a@x.example", prot = 1 }\n', "c.toml")


def test_a_single_mailbox_database_is_carried_over(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    for version, name, sql in MIGRATIONS:
        if version > 10:
            break
        conn.executescript(sql)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, '2026-11-01')", [version, name])
    conn.execute("INSERT INTO mailboxes (folder, uidvalidity, last_uid) VALUES ('INBOX', 7, 1234)")
    conn.execute("INSERT INTO messages (id, message_key, sha256, size, fetched_at) VALUES (1, 'k', '', 1, 'x')")
    conn.execute("INSERT INTO locations VALUES ('INBOX', 7, 1234, 1)")
    conn.commit()
    conn.close()
    store = Store.open(str(path))
    assert store.mailbox("INBOX") == {"mailbox": "default", "folder": "INBOX", "uidvalidity": 7, "last_uid": 1234,
                                      "last_check_at": None, "last_error": None, "last_error_at": None}
    assert store.message(1)["mailbox"] == "default" and store.message(1)["locations"][0]["uid"] == 1234
    config = parse_config('[imap]\nusername = "s@example.com"\n')
    assert config.mailbox_name == "default"  # a config without [[mailbox]] reads the same cursor


def test_a_mailbox_renamed_in_the_config_is_carried_over_and_nothing_is_read_twice(mailbox, make_config, store):
    from .conftest import eml

    mailbox.append(eml("gmail_complaint_delivery.eml"))
    before = make_config()  # one mailbox, named "default"
    worker = Worker(before, store)
    with worker.inbox:
        worker.poll(datetime.now(timezone.utc))
    text = open(before.path).read().replace(f'username = "{mailbox.user}"\n', "") + f"""
[[mailbox]]
name = "helpdesk"
imap = {{ username = "{mailbox.user}" }}
"""
    path = before.path.replace("amends.toml", "renamed.toml")
    open(path, "w").write(text)
    after = parse_config(text, path)
    worker = Worker(after, store)  # Amends ran before anyone noticed: it read the folder again
    with worker.inbox:
        assert worker.poll(datetime.now(timezone.utc)).new == 0
    runner = CliRunner()
    status = runner.invoke(main, ["--config", path, "status"])
    assert status.exit_code == 0, status.output
    assert "the store has mailbox 'default'" in status.stderr and "amends mailbox rename default NEW-NAME" in status.stderr

    assert runner.invoke(main, ["--config", path, "mailbox", "rename", "helpdesk", "x"]).exit_code != 0
    done = runner.invoke(main, ["--config", path, "mailbox", "rename", "default", "helpdesk"])
    assert done.exit_code == 0 and "1 case(s) moved" in done.output
    assert store.mailbox_names() == {"helpdesk"}
    assert {r["mailbox"] for r in store.db.query("SELECT mailbox FROM conversations")} == {"helpdesk"}
    assert store._exec("SELECT count(*) FROM locations").fetchone()[0] == 1
    status = runner.invoke(main, ["--config", path, "status"])
    assert status.exit_code == 0 and "warning" not in status.stderr and "helpdesk" in status.output
    mailbox.append(mail("fresh", "ana@example.net", "Still nothing", "Where is my parcel?", 0))
    worker = Worker(after, store)
    with worker.inbox:
        summary = worker.poll(datetime.now(timezone.utc))
    assert (summary.fetched, summary.new) == (1, 1)  # on from where "default" was: only the new one
