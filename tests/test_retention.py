"""How long people's mail is kept: raw bytes after [store] raw_days, quiet cases after case_days."""

import dataclasses
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from worker.cli import main
from worker.desk.jobs import JobRunner, schedule
from worker.desk.retention import apply_retention
from worker.desk.review import draft_pending, reject
from worker.loop import Worker

from .conftest import label, mail

NOW = datetime.now(timezone.utc)
LONG_AGO = "2020-01-01T09:00:00+00:00"


def three_cases(mailbox, make_config, store):
    """Two old cases, one answered (closed) and one still waiting for a reviewer, and a new one."""
    for key, who in (("closed-1", "Ann <ann@example.net>"), ("open-1", "Ben <ben@example.net>"),
                     ("recent-1", "Cat <cat@example.net>")):
        mailbox.append(mail(key, who, f"Problem {key}", f"My order for {key} never arrived.\n\n{who[:3]}", 0))
    config = make_config()
    worker = Worker(config, store)
    with worker.inbox:
        worker.poll(NOW)
    label(store, {key: (True, "medium", "delivery") for key in ("closed-1", "open-1", "recent-1")})
    draft_pending(store, config, NOW)
    ids = {row["message_id"].split("@")[0]: row for row in store.messages(limit=10)}
    reject(store, store.draft_for_message(ids["closed-1"]["id"])["id"], "Tom Baker", "answered by phone", NOW)
    for key in ("closed-1", "open-1"):
        store._exec("UPDATE messages SET fetched_at = ? WHERE id = ?", [LONG_AGO, ids[key]["id"]])
        store._exec("UPDATE conversations SET last_message_at = ? WHERE id = ?", [LONG_AGO, ids[key]["conversation_id"]])
    kept = dataclasses.replace(config, store=dataclasses.replace(config.store, raw_days=30, case_days=365))
    return kept, ids


def test_old_raw_mail_and_quiet_cases_go_and_open_or_recent_ones_stay(mailbox, make_config, store):
    config, ids = three_cases(mailbox, make_config, store)
    seen = apply_retention(store, config, NOW, dry_run=True)
    assert (seen.raw_deleted, seen.cases_erased) == (2, 1)
    assert store.message(ids["closed-1"]["id"])["state"] == "parsed"  # a dry run changes nothing

    done = apply_retention(store, config, NOW)
    assert (done.raw_deleted, done.cases_erased, done.messages_erased) == (2, 1, 1)
    closed, still_open, recent = (store.message(ids[key]["id"]) for key in ("closed-1", "open-1", "recent-1"))
    assert closed["state"] == "erased" and closed["new_text"] is None and closed["from_addr"] is None
    assert still_open["new_text"] and store.draft_for_message(still_open["id"])["state"] == "pending"
    raws = {r[0] for r in store._exec("SELECT message_pk FROM raw_messages")}
    assert raws == {recent["id"]}  # the waiting case keeps its text, not its raw bytes
    assert store._exec("SELECT count(*) FROM audit_log WHERE action = 'applied retention'").fetchone()[0] == 1
    again = apply_retention(store, config, NOW)
    assert (again.raw_deleted, again.cases_erased) == (0, 0)


def test_a_daily_job_applies_it_and_nothing_is_scheduled_when_everything_is_kept(mailbox, make_config, store):
    config, ids = three_cases(mailbox, make_config, store)
    schedule(store, make_config(), NOW)
    assert store.jobs(state="scheduled", kind="retention") == []  # raw_days = case_days = 0: keep
    schedule(store, config, NOW)
    (job,) = store.jobs(state="scheduled", kind="retention")
    JobRunner(config, store).run_due(datetime.fromisoformat(job["due_at"]) + timedelta(minutes=1))
    assert store.job(job["id"])["state"] == "done"
    assert store.message(ids["closed-1"]["id"])["state"] == "erased"


def test_the_retention_command_shows_a_dry_run(mailbox, make_config, store):
    config, _ = three_cases(mailbox, make_config, store)
    text = open(config.path).read()
    open(config.path, "w").write(text.replace(f'path = "{config.store.path}"',
                                              f'path = "{config.store.path}"\nraw_days = 30\ncase_days = 365', 1))
    shown = CliRunner().invoke(main, ["--config", config.path, "retention", "--dry-run"])
    assert shown.exit_code == 0 and "would delete the raw mail of 2 message(s); erase 1 quiet case(s)" in shown.output
    done = CliRunner().invoke(main, ["--config", config.path, "retention"])
    assert done.exit_code == 0 and "raw mail of 2 message(s) deleted; 1 quiet case(s)" in done.output
