"""A shared inbox with years of mail: its history is kept for what it is good for, never answered."""

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from worker.cli import main
from worker.config import ConfigError, parse_config
from worker.desk.history import cut_off_of, reopen
from worker.desk.jobs import schedule
from worker.desk.review import draft_pending
from worker.desk.users import add_user
from worker.loop import Worker

from .conftest import intake, mail

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
LEADERSHIP = '\n[followup]\nleadership = ["boss@example.com"]\n'


def _pass(mailbox, worker, store, config, mails, now):
    intake(mailbox, worker, store, config, mails, now)
    schedule(store, config, now)


def test_the_first_connection_imports_history_without_drafting_or_alerting_it(mailbox, make_config, store):
    config = make_config(LEADERSHIP, draft_since="")
    worker = Worker(config, store)
    old = [(mail("old-1", "Ann <ann@example.net>", "Broken kettle", "The kettle sparked last month.", 24 * 30, now=NOW),
            (True, "critical", "defect")),
           (mail("old-2", "Bo <bo@example.net>", "Late parcel", "Order 5512 never came.", 48, now=NOW),
            (True, "high", "delivery"))]
    _pass(mailbox, worker, store, config, old, NOW)
    assert store.counts()["parsed"] == 2  # kept: threads, repeat complainers, reports
    assert store.drafts() == [] and store.jobs(kind="leadership_alert") == []
    cut = cut_off_of(store, "default")
    assert cut.connected_at == NOW and cut.draft_since == NOW
    later = NOW + timedelta(hours=1)
    _pass(mailbox, worker, store, config, [(mail("new-1", "Cy <cy@example.net>", "Wrong size", "You sent the wrong "
                                                 "size.", 0, now=later), (True, "high", "delivery"))], later)
    assert [d["subject"] for d in store.drafts()] == ["Re: Wrong size"]
    assert len(store.jobs(kind="leadership_alert")) == 1

    # Older open cases come into the queue only when someone asks, and alert nobody.
    add_user(store, "Tom Baker", "correct horse battery", False, later)
    assert reopen(store, config, NOW - timedelta(days=3), "Tom Baker", later) == 1
    draft_pending(store, config, later)
    schedule(store, config, later)
    assert sorted(d["subject"] for d in store.drafts()) == ["Re: Late parcel", "Re: Wrong size"]
    assert len(store.jobs(kind="leadership_alert")) == 1


def test_status_says_from_when_mail_is_answered_and_reopen_takes_a_date(mailbox, make_config, store):
    config = make_config(draft_since="30 days")
    worker = Worker(config, store)
    with worker.inbox:
        worker.poll(NOW)
    assert cut_off_of(store, "default").draft_since == NOW - timedelta(days=30)
    shown = CliRunner().invoke(main, ["--config", config.path, "status"])
    assert "answering mail from 24 Oct 2026 09:00 UTC (first connected 23 Nov 2026 09:00)" in " ".join(shown.output.split())
    refused = CliRunner().invoke(main, ["--config", config.path, "cases", "reopen", "--since", "last week", "--by", "x"])
    assert refused.exit_code == 1 and "is not a date" in refused.output


@pytest.mark.parametrize("value, ok", [("", True), ("all", True), ("30 days", True), ("2026-11-01", True),
                                       ("last week", False), ("30", False)])
def test_draft_since_is_checked_when_the_config_loads(value, ok):
    text = f'[imap]\nusername = "s@example.com"\ndraft_since = "{value}"\n'
    if ok:
        parse_config(text)
    else:
        with pytest.raises(ConfigError, match="imap.draft_since"):
            parse_config(text)
