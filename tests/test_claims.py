"""Any number of processes on one database: each reply is sent once, each job run once."""

import os
import signal
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from worker.store.claims import OWNER, LostClaim, claim, release, renew
from worker.desk.jobs import JobCounts, JobRunner

from .conftest import ROOT, eml, smtp_toml
from .test_send import NOW, approved_reply, send_once

LEASE = timedelta(minutes=5)


def queue_replies(store, count):
    for i in range(count):
        message_id = f"claim-{i}@support.example.com"
        raw = (f"From: Example Support <support@example.com>\r\nTo: customer{i}@example.com\r\n"
               f"Subject: Re: your order\r\nMessage-ID: <{message_id}>\r\n\r\nSorry, we are on it.\r\n").encode()
        store.enqueue(kind="reply", draft_id=None, conversation_id=None, message_id=message_id,
                      to_addr=f"customer{i}@example.com", raw=raw, now=NOW)


def one_shot(config, *args):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "worker.cli", "--config", config.path, *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def received_ids(sink):
    return Counter(m.raw.split(b"Message-ID: <", 1)[1].split(b">", 1)[0].decode() for m in sink.messages)


def expire(store, table, row_id):
    """As if the holder's lease had run out on the store's clock."""
    store._exec(f"UPDATE {table} SET claimed_until = '2000-01-01T00:00:00+00:00' WHERE id = ?", [row_id])


def test_a_claim_excludes_other_live_processes_until_it_is_released_or_expires(store):
    queue_replies(store, 1)
    other = f"elsewhere.example:{os.getppid()}:abcd1234"
    ours = claim(store, "outbox", 1, LEASE)
    assert ours is not None
    assert claim(store, "outbox", 1, LEASE, owner=other) is None
    expire(store, "outbox", 1)
    theirs = claim(store, "outbox", 1, LEASE, owner=other)  # our lease ran out
    assert theirs is not None and claim(store, "outbox", 1, LEASE) is None
    release(store, ours)  # not ours any more: nothing happens
    assert claim(store, "outbox", 1, LEASE) is None
    with pytest.raises(LostClaim):
        renew(store, ours, stage="connect")  # the old holder may not write before a side effect
    release(store, theirs)
    assert claim(store, "outbox", 1, LEASE) is not None


def test_leases_run_on_the_stores_clock_not_the_callers(make_config, store, smtp_sink, model_dir):
    from worker.desk.outbox import Sender

    config = make_config(smtp_toml(smtp_sink, model_dir))
    queue_replies(store, 1)
    other = f"elsewhere.example:{os.getppid()}:abcd1234"
    assert claim(store, "outbox", 1, LEASE, owner=other) is not None
    until = store._exec("SELECT claimed_until FROM outbox WHERE id = 1").fetchone()[0]
    assert timedelta(minutes=4) < datetime.fromisoformat(until) - datetime.now(timezone.utc) <= LEASE
    # `amends send --once --now` a month ahead (or a host whose clock runs fast) takes nothing over
    assert Sender(config, store).send_due(NOW + timedelta(days=30)).sent == 0
    assert smtp_sink.messages == [] and store.outbox_row(1)["state"] == "queued"


def test_a_second_claim_by_the_same_process_voids_the_first(store):
    queue_replies(store, 1)
    first = claim(store, "outbox", 1, LEASE)
    expire(store, "outbox", 1)
    second = claim(store, "outbox", 1, LEASE)
    assert second is not None and second.token != first.token
    with pytest.raises(LostClaim):
        renew(store, first, stage="data")
    renew(store, second, stage="data")


def test_a_claim_of_a_process_that_has_exited_is_taken_over_at_once(store):
    import socket
    import subprocess
    import sys

    queue_replies(store, 1)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{socket.gethostname()}:{gone.stdout.strip()}:0000aaaa"
    assert claim(store, "outbox", 1, LEASE, owner=dead) is not None
    assert claim(store, "outbox", 1, LEASE) is not None
    row = store._exec("SELECT claimed_by FROM outbox WHERE id = 1").fetchone()
    assert row[0] == OWNER


def test_four_processes_drain_two_hundred_replies_each_sent_once(make_config, store, smtp_sink, model_dir, worker_process):
    config = make_config(smtp_toml(smtp_sink, model_dir))
    queue_replies(store, 200)
    runs = [worker_process(config) for _ in range(2)]
    one_shots = [one_shot(config, "send", "--once"), one_shot(config, "jobs", "run-due")]
    for proc in one_shots:
        assert proc.wait(timeout=120) == 0
    for run in runs:
        assert run.stop() == 0
    assert send_once(config).wait(timeout=120) == 0  # whatever a stopped worker had claimed
    ids = received_ids(smtp_sink)
    assert len(ids) == 200 and set(ids.values()) == {1}
    assert {r["state"] for r in store.db.query("SELECT state FROM outbox")} == {"sent"}
    assert store._exec("SELECT count(*) FROM outbox WHERE claimed_by IS NOT NULL").fetchone()[0] == 0


def test_a_sender_frozen_mid_send_keeps_its_claim_and_loses_it_when_killed(mailbox, make_config, store, smtp_sink, model_dir):
    config, _, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    frozen = send_once(config, "smtp-before-data")
    _, status = os.waitpid(frozen.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status)
    assert send_once(config).wait(timeout=60) == 0  # a live claimant: hands off
    assert smtp_sink.messages == [] and store.outbox_row(outbox_id)["state"] == "sending"
    os.kill(frozen.pid, signal.SIGKILL)
    os.waitpid(frozen.pid, 0)
    frozen.returncode = -9
    assert send_once(config).wait(timeout=60) == 0  # its owner is gone: taken over, sent once
    assert len(smtp_sink.messages) == 1 and store.outbox_row(outbox_id)["state"] == "sent"


def test_a_job_claimed_by_another_process_is_left_to_it(make_config, store, smtp_sink, model_dir):
    config = make_config(smtp_toml(smtp_sink, model_dir))
    job_id = store.add_job("daily_digest", None, None, None, NOW, NOW)
    other = f"elsewhere.example:{os.getppid()}:abcd1234"
    assert claim(store, "jobs", job_id, LEASE, owner=other) is not None
    runner = JobRunner(config, store)
    assert runner.run_due(NOW).done == 0 and store.job(job_id)["state"] == "scheduled"
    assert runner.run_due(NOW + timedelta(days=30)).done == 0  # a caller's clock ahead takes nothing
    expire(store, "jobs", job_id)
    assert runner.run_due(NOW).done == 1 and store.job(job_id)["state"] == "done"
    assert store.job(job_id)["claimed_by"] is None


def test_the_writes_before_an_smtp_conversation_are_synced_to_disk(mailbox, make_config, store, smtp_sink, model_dir):
    from worker.desk.outbox import Sender

    config, _, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    statements = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        assert Sender(config, store).send_due(NOW).sent == 1
    finally:
        store.db.conn.set_trace_callback(None)
    mode = "NORMAL"
    stages = []
    for sql in statements:
        if sql.startswith("PRAGMA synchronous"):
            mode = sql.split("=")[1].strip()
        elif sql.startswith("UPDATE outbox SET") and ("stage" in sql or "claimed_by" in sql):
            stages.append((sql.split(" WHERE")[0], mode))
    assert len(stages) >= 3 and all(mode == "FULL" for sql, mode in stages if "claimed_by = NULL" not in sql), stages
    assert store._exec("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL again for everything else


def freeze_at(config, failpoint):
    """A sender stopped (SIGSTOP) at the failpoint: alive, holding its claim, doing nothing."""
    frozen = send_once(config, failpoint)
    _, status = os.waitpid(frozen.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"the sender never reached {failpoint}"
    return frozen


def resume(frozen):
    os.kill(frozen.pid, signal.SIGCONT)
    _, status = os.waitpid(frozen.pid, 0)
    frozen.returncode = os.waitstatus_to_exitcode(status)
    return frozen.returncode


@pytest.mark.parametrize("failpoint", ["smtp-before-connect", "smtp-before-data"])
def test_a_sender_paused_past_its_lease_never_sends_what_another_took_over(
        failpoint, mailbox, make_config, store, smtp_sink, model_dir):
    config, _, outbox_id = approved_reply(mailbox, make_config, store, smtp_sink, model_dir)
    frozen = freeze_at(config, failpoint)
    expire(store, "outbox", outbox_id)  # paused for longer than its lease
    assert send_once(config).wait(timeout=60) == 0  # the next sender takes the row over and sends it
    assert len(smtp_sink.messages) == 1 and store.outbox_row(outbox_id)["state"] == "sent"
    assert resume(frozen) == 0  # the paused one wakes up, finds its claim gone, and stops
    assert len(received_ids(smtp_sink)) == 1 and set(received_ids(smtp_sink).values()) == {1}


def test_a_database_that_lost_its_last_writes_does_not_send_a_reply_the_customer_has(
        mailbox, make_config, store, smtp_sink, model_dir, tmp_path):
    import shutil

    from worker.mail.inbox import Inbox
    from worker.loop import Worker
    from worker.desk.outbox import Sender
    from worker.desk.review import approve
    from worker.store import Store

    mailbox.append(eml("gmail_complaint_delivery.eml"))
    config = make_config(smtp_toml(smtp_sink, model_dir))
    worker = Worker(config, store)
    with worker.inbox:
        worker.tick(NOW)
    (draft,) = store.drafts(state="pending")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # what the main file holds from here on
    approve(store, config, draft["id"], "Tom Baker", NOW)
    with Inbox(config) as inbox:
        assert Sender(config, store, inbox).send_due(NOW).sent == 1
    assert len(smtp_sink.messages) == 1
    # An admin "cleans up" after a crash: the database without its WAL. The reply is pending again.
    lost = tmp_path / "without-wal.db"
    shutil.copy(config.store.path, lost)
    again = Store.open(str(lost))
    assert again.draft(draft["id"])["state"] == "pending" and again.outbox_rows() == []
    outbox_id = approve(again, config, draft["id"], "Tom Baker", NOW)
    with Inbox(config) as inbox:
        summary = Sender(config, again, inbox).send_due(NOW)
    assert len(smtp_sink.messages) == 1  # the Sent folder had it: not sent a second time
    row = again.outbox_row(outbox_id)
    assert row["state"] == "sent" and "found in the Sent folder" in row["last_error"] and summary.sent == 1
    again.close()


def test_a_job_is_run_once_even_when_two_runners_read_it_due(make_config, store, smtp_sink, model_dir):
    config = make_config(smtp_toml(smtp_sink, model_dir) + '\n[followup]\nleadership = ["director@example.com"]\ndigest_at = "08:30"\n')
    job_id = store.add_job("daily_digest", None, None, None, NOW, NOW)
    first, second = JobRunner(config, store), JobRunner(config, store)
    held = claim(store, "jobs", job_id, LEASE)
    job = store.job(job_id)
    expire(store, "jobs", job_id)  # the first runner is held up past its lease...
    assert second.run_due(NOW).done == 1  # ...and the second runs the job
    done_at, queued = store.job(job_id)["done_at"], store._exec("SELECT count(*) FROM outbox").fetchone()[0]
    counts = JobCounts()
    first._run(job, NOW + timedelta(hours=1), counts, held)  # the first goes on with what it read: refused
    assert counts.done == 0 and store.job(job_id)["state"] == "done" and store.job(job_id)["done_at"] == done_at
    assert store._exec("SELECT count(*) FROM outbox").fetchone()[0] == queued
