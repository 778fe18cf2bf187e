"""Any number of processes on one database: each reply is sent once, each job run once."""

import os
import signal
from collections import Counter
from datetime import timedelta

from worker.claims import OWNER, claim, release
from worker.jobs import JobRunner

from .conftest import ROOT, smtp_toml
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


def test_a_claim_excludes_other_live_processes_until_it_is_released_or_expires(store):
    queue_replies(store, 1)
    other = f"elsewhere.example:{os.getppid()}:abcd1234"
    assert claim(store, "outbox", 1, NOW, LEASE)
    assert claim(store, "outbox", 1, NOW, LEASE)  # ours already: renewed
    assert not claim(store, "outbox", 1, NOW, LEASE, owner=other)
    assert claim(store, "outbox", 1, NOW + LEASE, LEASE, owner=other)  # our lease ran out
    assert not claim(store, "outbox", 1, NOW + LEASE, LEASE)
    release(store, "outbox", 1)  # not ours to release: nothing happens
    assert not claim(store, "outbox", 1, NOW + LEASE, LEASE)
    release(store, "outbox", 1, owner=other)
    assert claim(store, "outbox", 1, NOW + LEASE, LEASE)


def test_a_claim_of_a_process_that_has_exited_is_taken_over_at_once(store):
    import socket
    import subprocess
    import sys

    queue_replies(store, 1)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{socket.gethostname()}:{gone.stdout.strip()}:0000aaaa"
    assert claim(store, "outbox", 1, NOW, LEASE, owner=dead)
    assert claim(store, "outbox", 1, NOW, LEASE)
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
    assert claim(store, "jobs", job_id, NOW, LEASE, owner=other)
    runner = JobRunner(config, store)
    assert runner.run_due(NOW).done == 0 and store.job(job_id)["state"] == "scheduled"
    assert runner.run_due(NOW + LEASE).done == 1 and store.job(job_id)["state"] == "done"
    assert store.job(job_id)["claimed_by"] is None


def test_the_writes_before_an_smtp_conversation_are_synced_to_disk(mailbox, make_config, store, smtp_sink, model_dir):
    from worker.outbox import Sender

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
