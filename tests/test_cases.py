"""A case over time, on real servers and an injected clock: promises kept in business hours,
alerts per case, customers who reply, and a history that shows what was sent."""

from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default

import pytest

from worker.desk.jobs import JobRunner, schedule
from worker.loop import Worker
from worker.desk.review import ReviewError, approve, case_history
from worker.desk.users import add_user, set_email

from .conftest import intake, mail, smtp_toml

MONDAY_0642 = datetime(2026, 11, 23, 6, 42, tzinfo=timezone.utc)
PRIYA = "Priya Shah <priya@example.net>"


def desk(mailbox, make_config, store, smtp_sink, tmp_path, extra=""):
    config = make_config(smtp_toml(smtp_sink, tmp_path / "no-model", extra))
    return config, Worker(config, store)


def text_of(raw) -> str:
    message = raw if hasattr(raw, "get_body") else message_from_bytes(raw, policy=default)
    return message.get_body(("plain",)).get_content()


def test_the_promised_time_is_worked_out_at_approval_in_business_hours_and_tracked(mailbox, make_config, store,
                                                                                     smtp_sink, tmp_path):
    config, worker = desk(mailbox, make_config, store, smtp_sink, tmp_path)
    add_user(store, "Tom Baker", "correct horse battery", False, MONDAY_0642)
    set_email(store, "Tom Baker", "tom@example.com", MONDAY_0642)
    written = datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)
    intake(mailbox, worker, store, config, [(mail("p1", PRIYA, "Order 88213 late", "Order 88213 still hasn't arrived.",
                                                  0, now=written), (True, "medium", "delivery"))], written)
    (draft,) = store.drafts()
    assert "{deadline}" in store.draft(draft["id"])["body"]  # not fixed when drafted overnight
    outbox_id = approve(store, config, draft["id"], "Tom Baker", MONDAY_0642)
    body = text_of(store.outbox_raw(outbox_id))
    assert "I'll come back to you by 5pm today" in body  # 8 business hours from the 09:00 opening
    (promise,) = store.open_commitments()
    assert promise["owner"] == "Tom Baker" and promise["due_at"] == "2026-11-23T17:00:00+00:00"
    (warning,) = store.jobs(kind="promise_warning")
    assert warning["due_at"] == "2026-11-23T16:00:00+00:00"
    JobRunner(config, store).run_due(datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc))
    alert = store.outbox_rows("promise_warning")
    assert len(alert) == 1 and alert[0]["to_addr"] == "tom@example.com" and "Tom Baker, we told Priya Shah we would get back to them by 5pm today" in \
        text_of(store.outbox_raw(alert[0]["id"]))


def test_a_question_waits_for_the_reviewers_answer_and_a_customer_who_writes_again_reads_new_words(
        mailbox, make_config, store, smtp_sink, tmp_path):
    config, worker = desk(mailbox, make_config, store, smtp_sink, tmp_path)
    add_user(store, "Tom Baker", "correct horse battery", False, MONDAY_0642)
    intake(mailbox, worker, store, config, [(mail("q1", PRIYA, "App crashing", "Since Monday's update the app crashes "
                                                  "every time I open it. Is there a fix coming?", 1, now=MONDAY_0642),
                                             (True, "medium", "outage"))], MONDAY_0642)
    (first,) = store.drafts(state="pending")
    body = store.draft(first["id"])["body"]
    assert "{answer: Is there a fix coming?}" in body and "answer that too" not in body
    with pytest.raises(ReviewError, match=r"answer the customer's question first: replace \{answer: Is there a fix"):
        approve(store, config, first["id"], "Tom Baker", MONDAY_0642)
    # She sends the same mail again: the case is redrafted, and the reply is not word for word the same.
    intake(mailbox, worker, store, config, [(mail("q2", PRIYA, "Re: App crashing", "Since Monday's update the app "
                                                  "crashes every time I open it. Is there a fix coming?", 0,
                                                  reply_to="q1", now=MONDAY_0642), (True, "medium", "outage"))],
           MONDAY_0642)
    (second,) = store.drafts(state="pending")
    again = store.draft(second["id"])["body"]
    assert second["id"] != first["id"] and again.split("\n\n")[1] != body.split("\n\n")[1], (body, again)
    answered = body.replace("{answer: Is there a fix coming?}", "Yes: version 4.2 fixes it, out on Thursday.")
    approve(store, config, second["id"], "Tom Baker", MONDAY_0642, body=answered)
    assert "version 4.2" in text_of(store.outbox_raw(store.outbox_rows("reply")[0]["id"]))


def test_a_reply_that_leaves_later_than_approved_never_promises_a_past_time(mailbox, make_config, store, smtp_sink,
                                                                           tmp_path):
    config, worker = desk(mailbox, make_config, store, smtp_sink, tmp_path)
    friday = datetime(2026, 11, 27, 16, 30, tzinfo=timezone.utc)
    intake(mailbox, worker, store, config, [(mail("p1", PRIYA, "Order 88213 late", "Order 88213 still hasn't arrived.",
                                                  1, now=friday), (True, "medium", "delivery"))], friday)
    (draft,) = store.drafts()
    outbox_id = approve(store, config, draft["id"], "Tom Baker", friday)
    assert "by 5pm on Monday" in text_of(store.outbox_raw(outbox_id))
    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)  # the worker was down until Tuesday
    with worker.inbox:
        assert worker.sender.send_due(tuesday).sent == 1
    (sent,) = smtp_sink.messages
    assert "by 10am tomorrow" in text_of(sent.message) and "Monday" not in text_of(sent.message)
    assert store.open_commitments()[0]["due_at"] == "2026-12-02T10:00:00+00:00"


def test_leadership_gets_one_alert_per_case_then_updates_in_its_thread(mailbox, make_config, store, smtp_sink, tmp_path):
    config, worker = desk(mailbox, make_config, store, smtp_sink, tmp_path,
                          '\n[followup]\nleadership = ["boss@example.com"]\n')
    now = MONDAY_0642
    intake(mailbox, worker, store, config, [
        (mail("s1", "Sarah <sarah@example.net>", "Desk not delivered", "My desk never came.", 26, now=now),
         (True, "high", "delivery")),
        (mail("s2", "Sarah <sarah@example.net>", "Re: Desk not delivered", "Still nothing. Second time.", 1,
              reply_to="s1", now=now), (True, "high", "delivery")),
    ], now)
    schedule(store, config, now)
    JobRunner(config, store).run_due(now)
    alerts = [message_from_bytes(store.outbox_raw(r["id"]), policy=default) for r in store.outbox_rows()
              if r["kind"] == "leadership_alert"]
    assert len(alerts) == 2
    first, update = alerts
    assert "REPEAT" not in text_of(first.as_bytes())  # a chaser in one thread is not a repeat complainer
    assert update["In-Reply-To"] == first["Message-ID"] and update["Subject"].startswith("Re: ")
    assert text_of(update.as_bytes()).startswith("UPDATE: Sarah <sarah@example.net> wrote again in this case")
    (open_draft,) = [d for d in store.drafts() if d["state"] == "pending"]
    assert open_draft["unanswered"] == 2  # the queue shows it was chased


def test_history_shows_what_was_sent_and_why_the_follow_up_was_cancelled(mailbox, make_config, store, smtp_sink,
                                                                        tmp_path):
    config, worker = desk(mailbox, make_config, store, smtp_sink, tmp_path)
    now = MONDAY_0642.replace(hour=10)
    intake(mailbox, worker, store, config, [(mail("e1", "Eve <eve@example.net>", "Order 30211 late",
                                                  "My order 30211 is a week late.", 2, now=now),
                                             (True, "medium", "delivery"))], now)
    (draft,) = store.drafts()
    approve(store, config, draft["id"], "Tom Baker", now)
    with worker.inbox:
        worker.sender.send_due(now)
    schedule(store, config, now)
    intake(mailbox, worker, store, config, [(mail("e2", "Eve <eve@example.net>", "Re: Order 30211 late",
                                                  "Thanks! Can I change the delivery address?", 0, reply_to="e1", now=now),
                                             (False, None, None))], now)
    schedule(store, config, now)
    replied = [d for d in store.drafts() if d["state"] == "pending"]
    assert [d["kind"] for d in replied] == ["replied"]  # never silence
    history = [event["what"] for event in case_history(store, draft["conversation_id"])]
    message_id = store.outbox_for_draft(draft["id"])["message_id"]
    assert any(e.startswith("sent reply to eve@example.net, Message-ID <" + message_id) for e in history), history
    assert any(e.startswith("follow up scheduled for") for e in history)
    assert any(e.startswith("follow up cancelled: the customer wrote again") for e in history), history
    assert any(e.startswith("customer replied: back in the queue") for e in history)


def test_drafts_show_says_why_a_draft_is_held(mailbox, make_config, store, smtp_sink, tmp_path):
    from click.testing import CliRunner

    from worker.cli import main

    config, worker = desk(mailbox, make_config, store, smtp_sink, tmp_path)
    intake(mailbox, worker, store, config, [(mail("h1", "Helen <helen@law.example>", "Data breach",
                                                  "You showed my orders to a stranger. My solicitor will write.", 1,
                                                  now=MONDAY_0642), (True, "critical", "privacy"))], MONDAY_0642)
    (draft,) = store.drafts()
    shown = CliRunner().invoke(main, ["--config", config.path, "drafts", "show", str(draft["id"])])
    assert shown.exit_code == 0, shown.output
    assert "Held for the role: legal" in shown.output and "legal threat ('solicitor')" in shown.output
    assert "{deadline} becomes the promised time" in shown.output


def test_praise_gets_a_short_thank_you_the_colleague_hears_of_and_no_alert_follow_up_or_survey(
        mailbox, make_config, store, smtp_sink, tmp_path):
    config, worker = desk(mailbox, make_config, store, smtp_sink, tmp_path,
                          '\n[followup]\nleadership = ["boss@example.com"]\n')
    add_user(store, "Tom Baker", "correct horse battery", False, MONDAY_0642)
    intake(mailbox, worker, store, config, [(mail("ok-1", PRIYA, "Thank you!", "Just a note to say Marco was wonderful "
                                                  "on the phone yesterday. Please pass on our thanks!", 1,
                                                  now=MONDAY_0642), "praise")], MONDAY_0642)
    (draft,) = store.drafts(state="pending")
    body = store.draft(draft["id"])["body"]
    assert draft["kind"] == "praise" and "Marco" in body and "sorry" not in body.lower() and "offer" not in body
    assert len(body.split()) < 60
    approve(store, config, draft["id"], "Tom Baker", MONDAY_0642)
    with worker.inbox:
        worker.sender.send_due(MONDAY_0642)
    assert store.draft(draft["id"])["state"] == "sent"
    schedule(store, config, MONDAY_0642)
    assert not store.jobs(kind="leadership_alert") and not store.jobs(kind="follow_up") and not store.jobs(kind="survey")


def test_a_reply_is_signed_with_the_reviewers_signature_name_when_their_login_is_not_it(
        mailbox, make_config, store, smtp_sink, tmp_path):
    from click.testing import CliRunner

    from worker.cli import main

    config, worker = desk(mailbox, make_config, store, smtp_sink, tmp_path)
    add_user(store, "demo", "correct horse battery", False, MONDAY_0642)
    signed = CliRunner().invoke(main, ["--config", config.path, "user", "sign-as", "demo", "Alex  Morgan"])
    assert signed.exit_code == 0 and "'Alex Morgan'" in signed.output
    intake(mailbox, worker, store, config, [(mail("sig-1", PRIYA, "Order 88213 late", "Order 88213 still hasn't "
                                                  "arrived.", 0, now=MONDAY_0642), (True, "low", "delivery"))],
           MONDAY_0642)
    (draft,) = store.drafts()
    outbox_id = approve(store, config, draft["id"], "demo", MONDAY_0642)
    body = text_of(store.outbox_raw(outbox_id))
    assert "Warm regards,\nAlex Morgan\n" in body.replace("\r\n", "\n") and "\ndemo\n" not in body
