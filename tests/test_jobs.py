"""Follow-ups, surveys and alerts on an injected clock: on time, once, cancelled, in hours."""

from datetime import datetime, timedelta, timezone

import pytest

from worker.loop import Worker
from worker.desk.hours import BusinessHours
from worker.desk.review import approve
from worker.desk.surveys import SurveyLinkError, make_token, parse_score, read_token
from worker.web import create_app

from .conftest import ROOT, eml, smtp_toml

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # a Monday
SECRET = "survey-secret-" + "y" * 30


@pytest.mark.parametrize("text, score", [
    ("5", 5), ("4/5", 4), ("3 out of 5", 3), ("2 stars", 2), ("Very satisfied, thanks!", 5),
    ("satisfied", 4), ("Very dissatisfied", 1), ("not happy at all", 2), ("1 - awful", 1),
    ("Still waiting for my refund", None), ("I have 5 questions about my order", None),
    ("Très satisfaite, merci !", 5), ("Satisfait", 4), ("Pas satisfait du tout", 2), ("Très déçu", 1), ("Bof", 3),
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


def sarah_writes(mailbox, message_id: str, in_reply_to: str, date: str, text: str, subject: str = "Re: Order") -> None:
    """The customer of the gmail fixture writes again, threaded to one of our mails."""
    mailbox.append(f"From: Sarah Whitfield <sarah.whitfield@gmail.com>\nTo: support@example.com\nSubject: {subject}\n"
                   f"Message-ID: {message_id}\nIn-Reply-To: {in_reply_to}\nDate: {date}\n\n{text}\n".encode())


def tick(worker, now):
    with worker.inbox:
        return worker.tick(now)


def test_follow_up_then_survey_on_time_once_and_threaded(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    jobs = {j["kind"]: j for j in store.jobs()}
    assert set(jobs) == {"follow_up", "survey", "promise_warning"}  # and the promise in the reply is tracked
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
    followed = " ".join(follow.get_body(("plain",)).get_content().split())
    promise = store.commitment_for_draft(draft["id"])  # the reply's promise, recalled by its date, never "today"
    assert promise["state"] == "open"
    assert f"I promised to come back to you {BusinessHours.of(config).dated(datetime.fromisoformat(promise['due_at']))}" in followed
    assert " today." not in followed.split("If you haven't")[0]
    survey_due = datetime.fromisoformat(store.jobs(kind="survey")[0]["due_at"])
    tick(worker, survey_due)
    assert len(smtp_sink.messages) == 3
    text = smtp_sink.messages[2].message.get_body(("plain",)).get_content()
    assert text.count("http://review.example/survey/") == 5


def test_a_customer_reply_cancels_follow_up_and_survey(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    ours = smtp_sink.messages[0].message["Message-ID"]
    sarah_writes(mailbox, "<again@gmail.com>", ours, "Tue, 24 Nov 2026 10:00:00 +0000",
                 "It still has not come. What now?", subject="Re: Order #48213")
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
    reopened = store.drafts(state="pending")[0]
    alert_text = alert.message.get_body(("plain",)).get_content()
    assert "Took far too long." in alert_text and f"http://review.example/drafts/{reopened['id']}" in alert_text


def test_a_customer_answered_in_french_gets_the_survey_and_its_page_in_french(
        mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    store._exec("UPDATE drafts SET language = 'fr' WHERE id = ?", [draft["id"]])  # the reply went out in French
    tick(worker, T0 + timedelta(days=30))
    survey_mail = smtp_sink.messages[-1].message.get_body(("plain",)).get_content()
    assert "comment avons-nous réglé votre problème" in survey_mail
    assert "5 - Très satisfait : http://review.example/survey/" in survey_mail
    assert "Pas du tout satisfait" in survey_mail and "Very" not in survey_mail
    path = [line.split(": ", 1)[1] for line in survey_mail.splitlines() if "/survey/" in line][3].replace(
        "http://review.example", "")
    client = create_app(config).test_client()
    shown = client.get(path).get_data(as_text=True)
    assert "Qu&#39;avez-vous pensé de notre aide ?" in shown and "2 sur 5 : Pas satisfait" in shown
    assert '<html lang="fr">' in shown and "Envoyer ma réponse" in shown and "Send my answer" not in shown
    token = shown.split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post(path, data={"csrf_token": token}).get_data(as_text=True)
    assert "Votre réponse est enregistrée" in done and store.survey(1)["score"] == 2
    damaged = client.get("/survey/forged-token", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert "Ce lien d&#39;enquête n&#39;est pas valide" in damaged.get_data(as_text=True)
    english = client.get("/survey/forged-token", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert "This survey link is not valid" in english.get_data(as_text=True)


def test_a_language_s_survey_phrases_are_checked_when_templates_load(tmp_path):
    import shutil

    from worker.desk.drafts import TemplateError, Templates

    root = tmp_path / "replies"
    shutil.copytree(ROOT / "templates" / "replies", root)
    phrases = root / "fr" / "phrases.toml"
    phrases.write_text(phrases.read_text(encoding="utf-8").replace('labels = ["Pas du tout satisfait", ', 'labels = ['),
                       encoding="utf-8")
    with pytest.raises(TemplateError, match=r"fr/phrases.toml: \[survey\] labels must be 5 answers"):
        Templates.load(root)


def answer_low(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch, score=2, comment="Took far too long."):
    from worker.desk.jobs import record_answer

    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    tick(worker, T0 + timedelta(days=30))
    assert record_answer(store, config, 1, score, comment, "link", T0 + timedelta(days=30, hours=1))
    return config, worker, draft


def test_a_low_score_reopens_the_conversation_with_a_draft_at_the_top_of_the_queue(
        mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    from worker.desk.review import escalate

    config, worker, first = answer_low(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    mailbox.append(eml("apple_mail_reply.eml"))  # another customer's complaint, also waiting
    tick(worker, T0 + timedelta(days=30, hours=2))
    queue = store.drafts(state="pending")
    reopened = queue[0]
    assert reopened["survey_id"] == 1 and len(queue) == 2
    assert reopened["conversation_id"] == first["conversation_id"] and reopened["to_addr"] == first["to_addr"]
    assert reopened["severity"] == escalate(first["severity"]) and reopened["subject"] == first["subject"]
    body = store.draft(reopened["id"])["body"]
    assert body.startswith("Hi Sarah,") and "2 out of 5" in body and '"Took far too long."' in body
    assert "What would make this right for you?" in body
    trail = store.audit_trail("draft", reopened["id"])
    assert trail[0]["action"] == "reopened by a low survey score"


def test_the_answer_to_a_reopened_conversation_threads_and_is_not_surveyed_again(
        mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    config, worker, first = answer_low(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch, score=1, comment=None)
    (reopened,) = store.drafts(state="pending")
    assert "1 out of 5" in store.draft(reopened["id"])["body"] and "You wrote" not in store.draft(reopened["id"])["body"]
    sent_before = len(smtp_sink.messages)
    approve(store, config, reopened["id"], "Ana Lopez", T0 + timedelta(days=31))
    tick(worker, T0 + timedelta(days=31))
    second = smtp_sink.messages[sent_before].message
    original = smtp_sink.messages[0].message
    assert second["In-Reply-To"] == original["In-Reply-To"] and second["Subject"] == original["Subject"]
    assert "Ana Lopez" in second.get_body(("plain",)).get_content()
    kinds = [j["kind"] for j in store.jobs() if j["draft_id"] == reopened["id"]
             and j["kind"] not in ("low_score_alert", "promise_warning")]
    assert kinds == ["follow_up"]


@pytest.mark.parametrize("answer, score", [
    ("4/5 - thanks", 4), ("1 - awful. The parcel never came and nobody called me back.", 1)])
def test_a_survey_answered_by_reply_counts_and_a_low_one_reopens_with_a_draft_answering_it(
        answer, score, mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    config, worker, first = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    tick(worker, T0 + timedelta(days=30))
    survey_mail = smtp_sink.messages[-1].message["Message-ID"]
    sarah_writes(mailbox, "<csat@gmail.com>", survey_mail, "Fri, 25 Dec 2026 10:00:00 +0000", answer)
    tick(worker, T0 + timedelta(days=31))
    assert store.survey(1)["score"] == score and store.survey(1)["answered_via"] == "reply"
    waiting = store.drafts(state="pending")
    if score > 2:
        assert waiting == []
        return
    (reopened,) = waiting  # one draft for the reply, never a second one
    assert reopened["survey_id"] == 1
    approve(store, config, reopened["id"], "Tom Baker", T0 + timedelta(days=31))
    tick(worker, T0 + timedelta(days=31))
    sent = [m.message for m in smtp_sink.messages if m.rcpt_tos == [first["to_addr"]]][-1]
    assert sent["In-Reply-To"] == "<csat@gmail.com>"


def test_a_low_score_raises_the_open_draft_instead_of_adding_another(
        mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    from worker.desk.jobs import record_answer

    config, worker, first = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    tick(worker, T0 + timedelta(days=30))
    ours = smtp_sink.messages[0].message["Message-ID"]
    sarah_writes(mailbox, "<again@gmail.com>", ours, "Wed, 23 Dec 2026 10:00:00 +0000",
                 "It still has not come and the tracking page is broken.", subject="Re: Order #48213")
    tick(worker, T0 + timedelta(days=30, hours=1))
    (open_draft,) = store.drafts(state="pending")
    assert record_answer(store, config, 1, 1, "Still nothing.", "link", T0 + timedelta(days=30, hours=2))
    assert not record_answer(store, config, 1, 5, None, "link", T0 + timedelta(days=30, hours=3))  # once
    (still,) = store.drafts(state="pending")
    assert still["id"] == open_draft["id"] and still["survey_id"] == 1
    assert [j["kind"] for j in store.jobs(kind="low_score_alert")] == ["low_score_alert"]


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


def test_a_digest_sent_late_says_so_in_its_title(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    """A worker that was down runs the digest when it comes back: titled for its day, and late."""
    monkeypatch.setenv("AMENDS_SECRET_KEY", SECRET)
    mailbox.append(b"From: Sarah Whitfield <sarah.whitfield@gmail.com>\nTo: support@example.com\n"
                   b"Subject: Invoice wrong\nMessage-ID: <late-invoice@gmail.com>\nDate: Mon, 23 Nov 2026 09:30:00 +0000\n\n"
                   b"Your invoice charges me twice for the order that never came. Please fix it.\n")
    leadership = '\n[followup]\nleadership = ["director@example.com"]\nalert_severities = ["critical"]\n'
    worker = Worker(make_config(smtp_toml(smtp_sink, model_dir) + leadership + 'digest_at = "08:30"\n'), store)
    tick(worker, T0)
    tick(worker, datetime(2026, 11, 27, 14, 0, tzinfo=timezone.utc))
    (digest,) = [s for s in (m.message["Subject"].strip() for m in smtp_sink.messages) if s.startswith("Complaints digest")]
    assert digest.startswith("Complaints digest for Tue 24 Nov: 1 (") and digest.endswith("(sent late, Fri 27 Nov)")


def test_daily_digest_tells_leadership_about_the_other_complaints_once(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    monkeypatch.setenv("AMENDS_SECRET_KEY", SECRET)
    mailbox.append(b"From: Helen Brooks <helen@law.example>\nTo: support@example.com\nSubject: Data breach\n"
                   b"Message-ID: <breach@law.example>\nDate: Mon, 23 Nov 2026 09:00:00 +0000\n\n"
                   b"Your portal showed me another customer's orders and address. My solicitor will be in touch.\n")
    for name in ("gmail_complaint_delivery.eml", "apple_mail_reply.eml", "praise.eml"):
        mailbox.append(eml(name))
    mailbox.append(b"From: Sarah Whitfield <sarah.whitfield@gmail.com>\nTo: support@example.com\n"
                   b"Subject: Invoice wrong\nMessage-ID: <invoice@gmail.com>\nDate: Mon, 23 Nov 2026 09:30:00 +0000\n\n"
                   b"And now your invoice charges me twice for the order that never came. Please fix it.\n")
    leadership = '\n[followup]\nleadership = ["director@example.com"]\nalert_severities = ["critical"]\n'
    config = make_config(smtp_toml(smtp_sink, model_dir) + leadership + 'digest_at = "08:30"\n')
    worker = Worker(config, store)
    tick(worker, T0)
    assert [m.message["Subject"][:11] for m in smtp_sink.messages] == ["[CRITICAL] "]
    (digest,) = store.jobs(kind="daily_digest")
    assert digest["due_at"] == "2026-11-24T08:30:00+00:00"
    current = [store.classifications(m["id"])[0] for m in store.messages(limit=10)]
    expected = [c for c in current if c["complaint"] and c["severity"] != "critical"]
    assert len(expected) >= 2
    tick(worker, datetime(2026, 11, 24, 8, 29, tzinfo=timezone.utc))
    assert len(smtp_sink.messages) == 1
    tick(worker, datetime(2026, 11, 24, 8, 30, tzinfo=timezone.utc))
    tick(worker, datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc))
    assert len(smtp_sink.messages) == 2  # once
    sent = smtp_sink.messages[1]
    assert sent.rcpt_tos == ["director@example.com"]
    assert sent.message["Subject"].startswith(f"Complaints digest for Tue 24 Nov: {len(expected)} (")
    body = sent.message.get_body(("plain",)).get_content()
    assert "Order #48213 still hasn't arrived" in body and "Invoice wrong" in body and "Data breach" not in body
    assert "Critical complaints were alerted at the time" in body
    assert "a repeat complainer (1 earlier complaint)" in body and "http://127.0.0.1:8025/drafts/" in body
    # Wednesday: nothing new came in, so nobody gets an empty digest.
    tick(worker, datetime(2026, 11, 25, 8, 30, tzinfo=timezone.utc))
    assert len(smtp_sink.messages) == 2
    assert [(j["state"], j["reason"]) for j in store.jobs(kind="daily_digest")][:2] == [
        ("done", None), ("done", "no complaints to report")]
    off = make_config(smtp_toml(smtp_sink, model_dir) + leadership)
    tick(Worker(off, store), datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc))
    assert store.jobs(kind="daily_digest", state="scheduled") == []
    assert "turned off" in store.jobs(kind="daily_digest")[-1]["reason"]


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
    assert "ran 3" in result.output and len(smtp_sink.messages) == 3  # follow-up, survey, promise check (no email)
    bad = runner.invoke(main, ["--config", config.path, "jobs", "run-due", "--now", "tomorrow"])
    assert bad.exit_code == 1 and "not an ISO-8601 time" in bad.output


def test_report_counts_what_happened_and_draws_charts(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from worker.cli import main
    from worker.desk.report import build_report

    from worker.desk.review import reject

    config, worker, draft = sent_reply(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch)
    mailbox.append(eml("apple_mail_reply.eml"))
    tick(worker, T0 + timedelta(hours=1))
    reject(store, store.drafts(state="pending")[0]["id"], "Tom Baker", "Wrong product named", T0 + timedelta(hours=1))
    tick(worker, T0 + timedelta(days=30))
    store.answer_survey(1, 4, None, "link", T0 + timedelta(days=31))
    report = build_report(store)
    assert report.complaints == 2 and report.decisions["sent"] == 1 and report.decisions["rejected"] == 1
    assert report.approval_rates() == {"2026-W48": (0.5, 0.5, 2)}
    assert report.first_reply_hours and report.edit_ratio == [0.0]
    assert report.csat == {draft["severity"]: [4]}
    assert "delivery" in report.terms
    result = CliRunner().invoke(main, ["--config", config.path, "report", "--png", str(tmp_path / "charts")])
    assert result.exit_code == 0, result.output
    assert "Time to first reply" in result.output and "CSAT after a" in result.output
    assert "2026-W48: approved 50%, rejected 50% of 2 decided" in result.output
    charts = sorted(p.name for p in (tmp_path / "charts").glob("*.png"))
    assert charts == ["complaints-per-week.png", "csat-by-severity.png", "decisions-per-week.png", "severity-mix.png"]


def test_a_crash_between_due_and_sent_sends_the_follow_up_exactly_once(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    import os
    import signal
    import subprocess
    import sys

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


def test_a_database_from_before_reopening_upgrades_in_place(tmp_path, monkeypatch):
    import sqlite3

    from worker.store import database as store_module
    from worker.store.migrations import MIGRATIONS

    path = str(tmp_path / "old.db")
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS[:5])
    old = store_module.Store.open(path)
    old.db.execute("INSERT INTO conversations (id, subject_key, started_at, last_message_at) VALUES (1, 's', 'x', 'x')")
    old.db.execute("INSERT INTO messages (id, message_key, sha256, size, fetched_at) VALUES (1, 'k', '', 0, 'x')")
    old.db.execute("INSERT INTO drafts (conversation_id, message_pk, state, to_addr, subject, body, rendered_body, "
                   "created_at, updated_at) VALUES (1, 1, 'sent', 'a@example.com', 'Re: s', 'b', 'b', 'x', 'x')")
    old.db.conn.commit()
    old.close()
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    upgraded = store_module.Store.open(path)
    assert upgraded.schema_version() == len(MIGRATIONS)
    assert upgraded.draft(1)["state"] == "sent" and upgraded.draft(1)["survey_id"] is None
    with pytest.raises(sqlite3.IntegrityError):  # still one ordinary draft per message
        upgraded.insert_draft({k: v for k, v in upgraded.draft(1).items() if k != "id"})
    upgraded.close()
