"""The queue as a team uses it, in Chromium: owners, stale edits, overdue cases, customers who
reply, customers who write in French, drafts held for legal.

The mail is real (Dovecot, the worker's ingest and drafting); the classifier's verdict on each
message is set by the test, so that each page state is reached on purpose.
"""

import threading
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from worker.demo.dovecot import free_port
from worker.loop import Worker
from worker.desk.review import ReviewError, approve, draft_pending
from worker.desk.users import add_user
from worker.web import create_app

from .conftest import ARTIFACTS, PASSWORD, label, login, mail, smtp_toml

NOW = datetime.now(timezone.utc)


CASES = [  # key, sender, subject, body, hours ago, complaint?, severity, category, answers
    ("late", "Priya Shah <priya@example.net>", "Order 88213 has not arrived",
     "Order 88213 was due on Tuesday and it still hasn't arrived.\n\nPriya", 24 * 30, True, "medium", "delivery", None),
    ("legal", "Helen Brooks <helen@brookslaw.example>", "Data breach in your portal",
     "I saw another customer's orders in my account. This is a data breach. I will report it to the Information "
     "Commissioner's Office and instruct my solicitor.\n\nHelen Brooks", 0, True, "critical", "privacy", None),
    ("french", "André Lefèvre <andre@orange.example>", "Colis abîmé",
     "Bonjour,\n\nLe colis est arrivé abîmé et la cafetière est cassée. C'est la deuxième fois.\n\nAndré", 0, True,
     "high", "defect", None),
    ("german", "Jürgen Weber <jw@example.de>", "Rechnung doppelt bezahlt",
     "Guten Tag, ich habe die Rechnung zweimal bezahlt und bis heute keine Erstattung bekommen.\n\nJürgen", 0, True,
     "medium", "billing", None),
    ("eve-1", "Eve Turner <eve@example.net>", "Order 30211 late",
     "My order 30211 is a week late and nobody has told me why.\n\nEve", 0, True, "medium", "delivery", None),
]


@pytest.fixture
def desk(mailbox, make_config, store, smtp_sink, model_dir):
    for key, sender, subject, body, hours, *_ in CASES:
        mailbox.append(mail(key, sender, subject, body, hours))
    port = free_port()
    config = make_config(smtp_toml(smtp_sink, model_dir) + f"\n[web]\nport = {port}\n")
    worker = Worker(config, store)
    with worker.inbox:
        worker.poll(NOW)
    label(store, {c[0]: c[5:8] for c in CASES})
    draft_pending(store, config, NOW)
    for name, roles in (("Tom Baker", ""), ("Sam Lee", ""), ("Lena Vogel", "legal")):
        add_user(store, name, PASSWORD, False, NOW)
        store.db.execute("UPDATE users SET roles = ? WHERE name = ?", [roles, name])
    from waitress import create_server

    server = create_server(create_app(config, secret_key="test-secret-" + "x" * 32), host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{port}", "store": store, "config": config, "mailbox": mailbox, "worker": worker}
    server.close()


def draft_of(desk, needle):
    return next(d for d in desk["store"].drafts() if needle in d["subject"])


def arrives(desk, raw: bytes, verdict) -> None:
    """One customer mail arrives, with the classifier's verdict, and is drafted."""
    with desk["worker"].inbox:
        desk["mailbox"].append(raw)
        desk["worker"].poll(NOW)
    label(desk["store"], {raw.split(b"Message-ID: <", 1)[1].split(b"@", 1)[0].decode(): verdict})
    draft_pending(desk["store"], desk["config"], NOW)


def open_draft(page, desk, needle):
    page.goto(f"{desk['url']}/drafts/{draft_of(desk, needle)['id']}")


def test_two_reviewers_a_stale_save_is_refused_with_the_other_change_shown(browser, desk):
    first, second = (browser.new_context().new_page() for _ in range(2))
    login(first, desk, "Tom Baker")
    login(second, desk, "Sam Lee")
    open_draft(first, desk, "88213")
    open_draft(second, desk, "88213")
    expect(second.locator("#viewing")).to_contain_text("Tom Baker is viewing")
    first.fill("#body", first.input_value("#body").replace("Hi Priya,", "Hi Priya, We are looking into it."))
    first.click("#save")
    expect(first.locator(".flash.info")).to_contain_text("Your edits are saved")
    second.fill("#body", second.input_value("#body") + "\nP.S. Sam's note.")
    second.click("#save")
    expect(second.locator("#stale")).to_contain_text("Tom Baker changed draft")
    expect(second.locator("#stale .diff")).to_contain_text("-")
    expect(second.locator("#stale .diff")).to_contain_text("We are looking into it")
    assert "Sam's note" in second.input_value("#body")  # nothing typed is lost
    stored = desk["store"].draft(draft_of(desk, "88213")["id"])
    assert "We are looking into it" in stored["body"] and "Sam's note" not in stored["body"]
    # Sam has now seen Tom's change; Tom edits once more, and Sam's approval is refused the same way.
    first.fill("#body", first.input_value("#body") + "\nTom's second thought.")
    first.click("#save")
    expect(first.locator(".flash.info")).to_contain_text("Your edits are saved")
    second.click("#approve")
    expect(second.locator("#stale .diff")).to_contain_text("Tom's second thought")
    assert desk["store"].draft(draft_of(desk, "88213")["id"])["state"] == "pending"
    second.screenshot(path=str(ARTIFACTS / "stale-edit.png"), full_page=True)
    for p in (first, second):
        p.context.close()


def test_take_assign_and_the_mine_filter(page, desk):
    login(page, desk, "Tom Baker")
    open_draft(page, desk, "88213")
    page.click("#take")
    expect(page.locator("#owner-name")).to_have_text("Tom Baker")
    open_draft(page, desk, "Colis")
    page.select_option("#assign-to", "Sam Lee")
    page.click("#assign")
    expect(page.locator("#owner-name")).to_have_text("Sam Lee")
    page.goto(desk["url"] + "/?owner=me")
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    expect(page.locator("#queue tbody tr .owner")).to_have_text("Tom Baker")
    open_draft(page, desk, "88213")
    page.click("#unassign")
    expect(page.locator("#owner-name")).to_have_text("nobody yet")


def test_waiting_time_counts_from_the_customer_and_overdue_comes_first(page, desk):
    login(page, desk)
    first_row = page.locator("#queue tbody tr").first
    # Priya wrote a month ago (medium, 4 business hours): overdue, and above the critical one that is not.
    expect(first_row).to_contain_text("88213")
    expect(first_row.locator(".badge.overdue")).to_contain_text("overdue")
    # Waiting since the customer wrote (the Date header), not since the draft was made.
    since = draft_of(desk, "88213")["waiting_since"]
    assert since < (NOW - timedelta(days=29)).isoformat()
    expect(first_row.locator("time")).to_have_attribute("datetime", since)
    page.screenshot(path=str(ARTIFACTS / "queue-overdue.png"), full_page=True)


def test_a_customer_reply_that_is_not_a_complaint_comes_back_to_the_queue(page, desk):
    store, worker = desk["store"], desk["worker"]
    eve = draft_of(desk, "30211")
    approve(store, desk["config"], eve["id"], "Tom Baker", NOW)
    with worker.inbox:
        worker.sender.send_due(NOW)
        desk["mailbox"].append(mail("eve-2", "Eve Turner <eve@example.net>", "Re: Order 30211 late",
                                    "Thanks for looking into it. Can I change the delivery address to my office?\n\nEve",
                                    0, reply_to="eve-1"))
        worker.poll(NOW)
    label(store, {"eve-2": (False, None, None)})
    draft_pending(store, desk["config"], NOW)
    login(page, desk)
    row = page.locator("#queue tbody tr", has_text="Re: Order 30211 late")
    expect(row.locator(".badge.replied")).to_have_text("customer replied")
    row.locator("a").click()
    expect(page.locator("#customer-replied")).to_be_visible()
    assert "I'm making the change you asked for" in page.input_value("#body")  # her ask, answered
    expect(page.locator("#asks li.ask")).to_have_count(1)


def test_a_question_is_answered_by_the_reviewer_before_the_reply_can_go(page, desk):
    store = desk["store"]
    arrives(desk, mail("kir-1", "Kirsty Bell <kirsty@example.net>", "TV app crashing", "Since Monday's update your app "
                       "on our TV crashes ten seconds into anything we play. Is there a fix coming?\n\nKirsty", 0),
            (True, "medium", "outage"))
    login(page, desk)
    open_draft(page, desk, "TV app crashing")
    assert "{answer: Is there a fix coming?}" in page.input_value("#body")
    expect(page.locator("#answer-hint")).to_contain_text("1 left")
    page.click("#approve")
    expect(page.locator("p.flash.error")).to_contain_text("answer the customer's question first")
    page.fill("#body", page.input_value("#body").replace("{answer: Is there a fix coming?}",
                                                         "Yes: version 4.2 fixes it, and it is out on Thursday."))
    page.click("#approve")
    expect(page.locator("p.flash[role=status]")).to_contain_text("approved")
    assert "version 4.2" in store.draft(draft_of(desk, "TV app crashing")["id"])["body"]


def test_a_replaced_draft_links_to_the_one_that_replaced_it(page, desk):
    """Alerts and bookmarks point at the draft of their time: its page leads to the current one."""
    store, worker = desk["store"], desk["worker"]
    first = draft_of(desk, "30211")
    with worker.inbox:
        desk["mailbox"].append(mail("eve-2", "Eve Turner <eve@example.net>", "Re: Order 30211 late",
                                    "Still nothing, and nobody has answered me. Where is my parcel?\n\nEve",
                                    0, reply_to="eve-1"))
        worker.poll(NOW)
    label(store, {"eve-2": (True, "medium", "delivery")})
    draft_pending(store, desk["config"], NOW)
    assert store.draft(first["id"])["state"] == "superseded"
    login(page, desk)
    page.goto(f"{desk['url']}/drafts/{first['id']}")
    link = page.locator("#superseded a")
    expect(link).to_contain_text("pending")
    link.click()
    assert "Where is my parcel?" in page.locator("body").inner_text()
    expect(page.locator("#superseded")).to_have_count(0)


def test_what_the_customer_asked_is_confirmed_before_approval_and_the_reply_follows(page, desk):
    store = desk["store"]
    arrives(desk, mail("dan-1", "Daniel Ortiz <dan@example.net>", "Charged after cancelling", "I cancelled on 3 November "
                       "but you charged me again. I want a full refund of the $192 you took, and please call me on "
                       "07700 900123.\n\nDaniel", 0), (True, "high", "billing"))
    draft = draft_of(desk, "Charged after cancelling")
    login(page, desk)
    page.goto(f"{desk['url']}/drafts/{draft['id']}")
    expect(page.locator("#asks li.ask")).to_have_count(2)
    expect(page.locator("#approve")).to_be_disabled()
    assert "I'm arranging your refund of $192 now" in page.input_value("#body")
    page.locator("#approve").evaluate("button => button.disabled = false")  # the server refuses it too
    page.click("#approve")
    expect(page.locator("p.flash.error")).to_contain_text("Confirm what the customer asked for first: refund, call back")
    page.check("#decision-1-cannot")  # a "cannot" without a reason is refused: the customer would be told nothing
    page.click("#confirm-asks")
    expect(page.locator("p.flash.error")).to_contain_text("Call back: say why it cannot be done")
    page.check("#decision-0-done")
    page.check("#decision-1-will_do")
    page.fill("#detail-1", "tomorrow before 10am")
    page.click("#confirm-asks")
    expect(page.locator("p.flash.info")).to_contain_text("now says what you chose")
    body = page.input_value("#body")
    assert "I've refunded $192 to your original payment method" in body
    assert "I'll call you on 07700 900123 tomorrow before 10am." in body and "arranging it now" not in body
    page.screenshot(path=str(ARTIFACTS / "draft-asks.png"), full_page=True)
    page.click("#approve")
    expect(page.locator("p.flash[role=status]")).to_contain_text("approved")
    assert store.draft(draft["id"])["state"] == "approved"


def test_the_reviewer_is_told_which_language_the_customer_wrote_in(page, desk):
    login(page, desk)
    open_draft(page, desk, "Colis")
    expect(page.locator("#language")).to_contain_text("wrote in French; this draft uses the French templates")
    assert page.input_value("#body").startswith("Bonjour André,")
    open_draft(page, desk, "Rechnung")
    expect(page.locator("#language")).to_contain_text("wrote in German; there are no German templates")


def test_a_legal_threat_is_held_and_only_the_named_role_can_approve(page, desk):
    login(page, desk, "Tom Baker")
    open_draft(page, desk, "Data breach")
    expect(page.locator("#stakes")).to_contain_text("Rule fired: legal: legal threat ('solicitor')")
    expect(page.locator("#held")).to_contain_text("Held for the legal role")
    expect(page.locator("#approve")).to_be_disabled()
    with pytest.raises(ReviewError, match="held for the 'legal' role"):  # and the server refuses it too
        approve(desk["store"], desk["config"], draft_of(desk, "Data breach")["id"], "Tom Baker", NOW)
    page.screenshot(path=str(ARTIFACTS / "legal-hold.png"), full_page=True)
    page.fill("#body", page.input_value("#body") + "\nThat's on us.")
    page.click("#save")
    expect(page.locator("#admissions")).to_contain_text("on us")
    page.context.clear_cookies()
    login(page, desk, "Lena Vogel")
    open_draft(page, desk, "Data breach")
    page.fill("#body", page.input_value("#body").replace("\nThat's on us.", ""))
    page.click("#approve")
    expect(page.locator(".flash.info")).to_contain_text("approved")
    draft = draft_of(desk, "Data breach")
    assert draft["state"] == "approved" and draft["decided_by"] == "Lena Vogel"
