"""Follow-ups, surveys and alerts on an injected clock: on time, once, cancelled, in hours."""

from datetime import datetime, timedelta, timezone

import pytest

from worker.config import parse_config
from worker.jobs import next_opening
from worker.loop import Worker
from worker.review import approve
from worker.surveys import SurveyLinkError, make_token, parse_score, read_token
from worker.web import create_app

from .conftest import eml, smtp_toml

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # a Monday
FOLLOW = parse_config('[imap]\nusername = "s@example.com"\n').followup
SECRET = "survey-secret-" + "y" * 30


@pytest.mark.parametrize("moment, expected", [
    (datetime(2026, 11, 23, 10, 0), datetime(2026, 11, 23, 10, 0)),   # Monday, open
    (datetime(2026, 11, 23, 7, 0), datetime(2026, 11, 23, 9, 0)),     # before opening
    (datetime(2026, 11, 23, 18, 0), datetime(2026, 11, 24, 9, 0)),    # after closing
    (datetime(2026, 11, 28, 12, 0), datetime(2026, 11, 30, 9, 0)),    # Saturday: Monday
])
def test_sending_window(moment, expected):
    utc = timezone.utc
    assert next_opening(moment.replace(tzinfo=utc), FOLLOW, "UTC") == expected.replace(tzinfo=utc)


def test_sending_window_uses_the_business_time_zone():
    # 08:30 UTC on a winter Monday is 09:30 in Paris: open.
    moment = datetime(2026, 11, 23, 8, 30, tzinfo=timezone.utc)
    assert next_opening(moment, FOLLOW, "Europe/Paris") == moment
    assert next_opening(moment, FOLLOW, "America/New_York") == datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, score", [
    ("5", 5), ("4/5", 4), ("3 out of 5", 3), ("2 stars", 2), ("Very satisfied, thanks!", 5),
    ("satisfied", 4), ("Very dissatisfied", 1), ("not happy at all", 2), ("1 - awful", 1),
    ("Still waiting for my refund", None), ("I have 5 questions about my order", None),
])
def test_csat_replies_are_parsed(text, score):
    assert parse_score(text) == score


def test_survey_tokens_cannot_be_forged_tampered_or_kept_too_long():
    token = make_token(SECRET, 7, 4)
    assert read_token(SECRET, token, 28) == (7, 4)
    with pytest.raises(SurveyLinkError, match="not valid"):
        read_token("another-secret", token, 28)
    with pytest.raises(SurveyLinkError, match="not valid"):
        read_token(SECRET, token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], 28)
    with pytest.raises(SurveyLinkError, match="expired"):
        read_token(SECRET, token, -1)


def sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch, extra="", mail="gmail_complaint_delivery.eml"):
    monkeypatch.setenv("AMENDS_SECRET_KEY", SECRET)
    mailbox.append(eml(mail))
    config = make_config(smtp_toml(smtp_sink, model_dir) + f'\n[web]\nbase_url = "http://review.example"\n{extra}')
    worker = Worker(config, store)
    with worker.inbox:
        worker.tick(T0)
        (draft,) = store.drafts(state="pending")
        approve(store, config, draft["id"], "Tom Baker", T0)
        worker.tick(T0)
    assert len(smtp_sink.messages) == 1
    return config, worker, draft


def tick(worker, now):
    with worker.inbox:
        return worker.tick(now)


def test_follow_up_then_survey_on_time_once_and_threaded(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    jobs = {j["kind"]: j for j in store.jobs()}
    assert set(jobs) == {"follow_up", "survey"}
    days = config.followup.follow_up_days[draft["severity"]]
    follow_due = datetime.fromisoformat(jobs["follow_up"]["due_at"])
    assert follow_due >= T0 + timedelta(days=days)
    tick(worker, follow_due - timedelta(minutes=1))
    assert len(smtp_sink.messages) == 1
    tick(worker, follow_due)
    tick(worker, follow_due + timedelta(minutes=5))
    assert len(smtp_sink.messages) == 2
    follow = smtp_sink.messages[1].message
    reply = smtp_sink.messages[0].message
    assert follow["In-Reply-To"] == reply["Message-ID"]
    assert "check in" in follow.get_body(("plain",)).get_content()
    survey_due = datetime.fromisoformat(store.jobs()[1]["due_at"])
    tick(worker, survey_due)
    assert len(smtp_sink.messages) == 3
    text = smtp_sink.messages[2].message.get_body(("plain",)).get_content()
    assert text.count("http://review.example/survey/") == 5


def test_a_customer_reply_cancels_follow_up_and_survey(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    ours = smtp_sink.messages[0].message["Message-ID"]
    mailbox.append(b"From: Sarah Whitfield <sarah.whitfield@gmail.com>\nTo: support@example.com\n"
                   b"Subject: Re: Order #48213\nMessage-ID: <again@gmail.com>\nIn-Reply-To: " + ours.encode() +
                   b"\nDate: Tue, 24 Nov 2026 10:00:00 +0000\n\nIt still has not come. What now?\n")
    tick(worker, T0 + timedelta(days=1))
    states = {j["kind"]: (j["state"], j["reason"]) for j in store.jobs()}
    assert states["follow_up"][0] == "cancelled" and "customer wrote again" in states["follow_up"][1]
    assert states["survey"][0] == "cancelled"
    tick(worker, T0 + timedelta(days=30))
    assert len(smtp_sink.messages) == 1  # no follow-up or survey went out


def test_survey_answer_on_the_page_is_recorded_once_and_a_low_score_alerts_the_team(
        mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    tick(worker, T0 + timedelta(days=30))
    survey_mail = smtp_sink.messages[-1].message.get_body(("plain",)).get_content()
    links = [line.split(": ", 1)[1] for line in survey_mail.splitlines() if "/survey/" in line]
    two = links[3]  # links run from 5 down to 1
    path = two.replace("http://review.example", "")
    client = create_app(config).test_client()
    shown = client.get(path)
    assert shown.status_code == 200 and b"2 of 5" in shown.data
    assert store.survey(1)["answered_at"] is None  # opening the link records nothing
    token = shown.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()
    client.post(path, data={"csrf_token": token, "comment": "Took far too long."})
    assert store.survey(1)["score"] == 2 and store.survey(1)["comment"] == "Took far too long."
    again = client.post(path, data={"csrf_token": token})
    assert b"already" in again.data
    assert client.get("/survey/forged-token").status_code == 400
    tick(worker, T0 + timedelta(days=30, minutes=5))
    alert = smtp_sink.messages[-1]
    assert alert.rcpt_tos == ["support@example.com"] and "2/5" in alert.message["Subject"]
    assert "Took far too long." in alert.message.get_body(("plain",)).get_content()


def test_a_survey_answered_by_reply_counts(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    tick(worker, T0 + timedelta(days=30))
    survey_id = smtp_sink.messages[-1].message["Message-ID"]
    mailbox.append(b"From: Sarah Whitfield <sarah.whitfield@gmail.com>\nTo: support@example.com\n"
                   b"Subject: Re: Order\nMessage-ID: <csat@gmail.com>\nIn-Reply-To: " + survey_id.encode() +
                   b"\nDate: Fri, 25 Dec 2026 10:00:00 +0000\n\n4/5 - thanks\n")
    tick(worker, T0 + timedelta(days=31))
    assert store.survey(1)["score"] == 4 and store.survey(1)["answered_via"] == "reply"


def test_high_and_critical_complaints_alert_leadership_at_once(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    monkeypatch.setenv("AMENDS_SECRET_KEY", SECRET)
    mailbox.append(b"From: Helen Brooks <helen@law.example>\nTo: support@example.com\nSubject: Data breach\n"
                   b"Message-ID: <breach@law.example>\nDate: Mon, 23 Nov 2026 09:00:00 +0000\n\n"
                   b"Your portal showed me another customer's orders and address. My solicitor will be in touch.\n")
    mailbox.append(eml("praise.eml"))
    config = make_config(smtp_toml(smtp_sink, model_dir) + '\n[followup]\nleadership = ["director@example.com", "coo@example.com"]\n')
    worker = Worker(config, store)
    tick(worker, T0)
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.messages) == ["coo@example.com", "director@example.com"]
    alert = smtp_sink.messages[0].message
    assert alert["Subject"].startswith("[CRITICAL] complaint: Data breach")
    body = alert.get_body(("plain",)).get_content()
    assert "critical by rule" in body and "/drafts/" in body and "nothing has been sent to the customer" in body
    tick(worker, T0 + timedelta(hours=1))
    assert len(smtp_sink.messages) == 2  # once


def test_customer_mail_due_at_night_waits_for_opening(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    follow = next(j for j in store.jobs() if j["kind"] == "follow_up")
    store.db.execute("UPDATE jobs SET due_at = ? WHERE id = ?", ["2026-11-26T02:00:00+00:00", follow["id"]])
    tick(worker, datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc))
    assert len(smtp_sink.messages) == 1
    assert next(j for j in store.jobs() if j["id"] == follow["id"])["due_at"] == "2026-11-26T09:00:00+00:00"


def test_jobs_cli_list_and_run_due(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    import json

    from click.testing import CliRunner

    from worker.cli import main

    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    runner = CliRunner()
    rows = json.loads(runner.invoke(main, ["--config", config.path, "jobs", "list", "--json"]).output)
    assert {"id", "kind", "conversation_id", "due_at", "state"} <= set(rows[0])
    result = runner.invoke(main, ["--config", config.path, "jobs", "run-due", "--now", "2026-12-31T10:00:00+00:00"])
    assert result.exit_code == 0, result.output
    assert "ran 2" in result.output and len(smtp_sink.messages) == 3
    bad = runner.invoke(main, ["--config", config.path, "jobs", "run-due", "--now", "tomorrow"])
    assert bad.exit_code == 1 and "not an ISO-8601 time" in bad.output


def test_report_counts_what_happened_and_draws_charts(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from worker.cli import main
    from worker.report import build_report

    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    tick(worker, T0 + timedelta(days=30))
    store.answer_survey(1, 4, None, "link", T0 + timedelta(days=31))
    report = build_report(store)
    assert report.complaints == 1 and report.decisions["sent"] == 1
    assert report.first_reply_hours and report.edit_ratio == [0.0]
    assert report.csat == {draft["severity"]: [4]}
    assert "delivery" in report.terms
    result = CliRunner().invoke(main, ["--config", config.path, "report", "--png", str(tmp_path / "charts")])
    assert result.exit_code == 0, result.output
    assert "Time to first reply" in result.output and "CSAT after a" in result.output
    charts = sorted(p.name for p in (tmp_path / "charts").glob("*.png"))
    assert charts == ["complaints-per-week.png", "csat-by-severity.png", "severity-mix.png"]


def test_a_crash_between_due_and_sent_sends_the_follow_up_exactly_once(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    import os
    import signal
    import subprocess
    import sys

    from .conftest import ROOT

    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    follow_due = next(j for j in store.jobs() if j["kind"] == "follow_up")["due_at"]
    command = [sys.executable, "-m", "worker.cli", "--config", config.path, "jobs", "run-due", "--now", follow_due]
    proc = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, AMENDS_FAILPOINT="smtp-before-connect"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status = os.waitpid(proc.pid, os.WUNTRACED)  # job done and mail queued; frozen before SMTP
    assert os.WIFSTOPPED(status)
    os.kill(proc.pid, signal.SIGKILL)
    os.waitpid(proc.pid, 0)
    proc.returncode = -9
    assert subprocess.run(command, cwd=ROOT, capture_output=True).returncode == 0
    assert subprocess.run(command, cwd=ROOT, capture_output=True).returncode == 0
    assert len(smtp_sink.messages) == 2  # the reply, and one follow-up
    assert [j["state"] for j in store.jobs() if j["kind"] == "follow_up"] == ["done"]
