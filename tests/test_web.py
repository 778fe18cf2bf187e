"""The review pages in a real browser: Debian's Chromium, driven by Playwright."""

import threading
from email import message_from_bytes
from email.policy import default
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from worker.demo.dovecot import free_port
from worker.loop import Worker
from worker.desk.users import add_user
from worker.web import create_app

from .conftest import ARTIFACTS, PASSWORD, eml, login, smtp_toml

XSS_MAIL = (
    b'From: "<img src=x onerror=alert(1)>" <attacker@evil.example>\nTo: support@example.com\n'
    b"Subject: <script>alert('subject')</script> charged twice\nMessage-ID: <xss-complaint@evil.example>\n"
    b"Date: Mon, 23 Nov 2026 09:00:00 +0000\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
    b"Content-Type: text/plain\n\n<script>alert('body')</script><img src=x onerror=alert(3)> You charged me twice "
    b"and never refunded me. I want my money back now.\n--b\nContent-Type: application/octet-stream\n"
    b'Content-Disposition: attachment; filename="<svg onload=alert(2)>.txt"\n\nx\n--b--\n'
)


@pytest.fixture
def site(mailbox, make_config, store, smtp_sink, model_dir):
    """The review pages over real drafts: three complaints, one of them carrying XSS payloads."""
    for raw in (eml("gmail_complaint_delivery.eml"), eml("apple_mail_reply.eml"), XSS_MAIL):
        mailbox.append(raw)
    port = free_port()
    config = make_config(smtp_toml(smtp_sink, model_dir) + f"\n[web]\nport = {port}\n")
    worker = Worker(config, store)
    with worker.inbox:
        worker.tick(datetime.now(timezone.utc))
    add_user(store, "Tom Baker", PASSWORD, False, datetime.now(timezone.utc))
    from waitress import create_server

    server = create_server(create_app(config, secret_key="test-secret-" + "x" * 32), host="127.0.0.1", port=port, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{port}", "store": store, "config": config}
    server.close()


def draft_id_for(site, needle):
    return next(d["id"] for d in site["store"].drafts() if needle in d["subject"])


def test_pages_need_a_login(page, site):
    for path in ("/", f"/drafts/{draft_id_for(site, 'Order')}"):
        page.goto(site["url"] + path)
        assert page.url.startswith(site["url"] + "/login")
    login(page, site, password="wrong password!")
    expect(page.locator(".flash.error")).to_contain_text("do not match")


def test_queue_is_sorted_by_severity_and_filters(page, site):
    login(page, site)
    expect(page.locator("h1")).to_have_text("Replies waiting for review")
    severities = page.locator("#queue tbody td:first-child .badge").all_inner_texts()
    order = ["critical", "high", "medium", "low"]
    assert severities == sorted(severities, key=order.index) and len(severities) == 3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)
    page.select_option("select[name=category]", "billing")
    page.click("form.filters button")
    assert all(row == "billing" for row in page.locator("#queue tbody td:nth-child(2)").all_inner_texts())


def test_keyboard_opens_a_draft(page, site):
    login(page, site)
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.locator("#body")).to_be_visible()


def test_edit_and_approve_sends_the_edited_reply_signed_by_the_reviewer(page, site):
    login(page, site)
    draft_id = draft_id_for(site, "Order #48213")
    page.goto(f"{site['url']}/drafts/{draft_id}")
    expect(page.locator(".conversation")).to_contain_text("standing desk")
    expect(page.locator(".reasons")).to_contain_text("complaint:")
    page.screenshot(path=str(ARTIFACTS / "draft.png"), full_page=True)
    body = page.input_value("#body").replace("Hi Sarah,", "Hi Sarah, thank you so much for writing.")
    page.fill("#body", body + "\nP.S. I've booked a courier for tomorrow morning.")
    page.click("#approve")
    expect(page.locator("p.flash[role=status]")).to_contain_text("approved")
    draft = site["store"].draft(draft_id)
    assert draft["state"] == "approved" and draft["decided_by"] == "Tom Baker"
    raw = site["store"].outbox_raw(site["store"].outbox_for_draft(draft_id)["id"])
    text = message_from_bytes(raw, policy=default).get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "thank you so much for writing" in text and "booked a courier" in text and text.rstrip().endswith("Tom Baker\nThe Example support team")


def test_reject_with_a_reason(page, site):
    login(page, site)
    draft_id = draft_id_for(site, "kettle")
    page.goto(f"{site['url']}/drafts/{draft_id}")
    page.fill("#reason", "Customer already called; handled by phone")
    page.click("#reject")
    expect(page.locator("p.flash[role=status]")).to_contain_text("rejected")
    assert site["store"].draft(draft_id)["reject_reason"] == "Customer already called; handled by phone"


def test_label_correction_is_stored_for_retraining(page, site):
    login(page, site)
    draft_id = draft_id_for(site, "kettle")
    page.goto(f"{site['url']}/drafts/{draft_id}")
    page.select_option("#label-severity", "critical")
    page.select_option("#label-category", "defect")
    page.click("#save-labels")
    expect(page.locator("p.flash[role=status]")).to_contain_text("correction")
    (correction,) = site["store"].corrections()
    assert correction["severity"] == "critical" and correction["category"] == "defect" and correction["complaint"] == 1


def test_a_post_without_csrf_token_is_refused(page, site):
    login(page, site)
    draft_id = draft_id_for(site, "Order #48213")
    response = page.request.post(f"{site['url']}/drafts/{draft_id}/approve", form={"body": "forged"})
    assert response.status == 400
    assert site["store"].draft(draft_id)["state"] == "pending"


def test_xss_payloads_are_shown_as_text_and_never_run(page, site):
    login(page, site)
    draft_id = draft_id_for(site, "charged twice")
    page.goto(f"{site['url']}/drafts/{draft_id}")
    expect(page.locator("h1")).to_contain_text("<script>alert('subject')</script>")
    expect(page.locator(".conversation")).to_contain_text("<img src=x onerror=alert(1)>")
    expect(page.locator(".conversation")).to_contain_text("<svg onload=alert(2)>.txt")
    page.goto(site["url"] + "/")
    expect(page.locator("#queue")).to_contain_text("<script>")
    assert page.dialogs == []
    assert page.locator("script:not([src])").count() == 0


def test_security_headers_and_cookie_flags(page, site):
    login(page, site)
    response = page.goto(site["url"] + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    cookie = next(c for c in page.context.cookies() if c["name"] == "amends_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_logout_ends_the_session(page, site):
    login(page, site)
    page.click("header .logout button")
    page.goto(site["url"] + "/")
    assert "/login" in page.url


@pytest.fixture
def surveyed(mailbox, make_config, store, smtp_sink, model_dir, monkeypatch):
    """A complaint answered, followed up and surveyed; the site serving it. Yields the survey links, 5 down to 1."""
    from datetime import timedelta

    from worker.desk.review import approve

    monkeypatch.setenv("AMENDS_SECRET_KEY", "survey-secret-" + "z" * 30)
    mailbox.append(eml("gmail_complaint_delivery.eml"))
    port = free_port()
    config = make_config(smtp_toml(smtp_sink, model_dir) + f'\n[web]\nport = {port}\nbase_url = "http://127.0.0.1:{port}"\n')
    worker = Worker(config, store)
    start = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    with worker.inbox:
        worker.tick(start)
        approve(store, config, store.drafts(state="pending")[0]["id"], "Tom Baker", start)
        worker.tick(start)
        worker.tick(start + timedelta(days=30))
    links = [line.split(": ", 1)[1] for line in smtp_sink.messages[-1].message.get_body(("plain",)).get_content().splitlines()
             if "/survey/" in line]
    add_user(store, "Tom Baker", PASSWORD, False, datetime.now(timezone.utc))
    from waitress import create_server

    server = create_server(create_app(config), host="127.0.0.1", port=port, threads=2)
    threading.Thread(target=server.run, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{port}", "links": links, "config": config, "worker": worker, "store": store}
    server.close()


def test_survey_page_in_the_browser_refuses_forged_tampered_reused_and_expired_links(page, surveyed, store, monkeypatch):
    from worker.desk.surveys import make_token

    links, port = surveyed["links"], surveyed["config"].web.port
    page.goto(links[0])  # "5 - Very satisfied"
    expect(page.locator("#chosen")).to_contain_text("5 of 5")
    assert store.survey(1)["answered_at"] is None
    page.screenshot(path=str(ARTIFACTS / "survey.png"))
    page.fill("textarea[name=comment]", "Sorted quickly in the end <script>alert(9)</script>")
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Thank you")
    assert store.survey(1)["score"] == 5
    page.goto(links[4])  # reusing the survey with another score
    expect(page.locator("body")).to_contain_text("already have your answer")
    assert store.survey(1)["score"] == 5
    tampered = links[1][:-3] + ("x" if links[1][-3] != "x" else "y") + links[1][-2:]
    for url, words in ((tampered, "not valid"), (f"http://127.0.0.1:{port}/survey/{make_token('forged', 1, 1)}", "not valid"),
                       (f"http://127.0.0.1:{port}/survey/not-a-token", "not valid")):
        response = page.goto(url)
        assert response.status == 400
        expect(page.locator("body")).to_contain_text(words)
    import itsdangerous

    def as_if_29_days_later(self, token, max_age=None):
        raise itsdangerous.SignatureExpired("older than survey_link_days")

    monkeypatch.setattr("worker.desk.surveys.URLSafeTimedSerializer.loads", as_if_29_days_later)
    page.goto(links[2])
    expect(page.locator("body")).to_contain_text("expired")
    assert page.dialogs == []


def test_two_answers_at_once_one_is_recorded_and_the_other_page_says_so(browser, surveyed, store):
    first, second = browser.new_page(), browser.new_page()
    first.goto(surveyed["links"][1])  # 4 of 5, and in another tab 2 of 5, both still to submit
    second.goto(surveyed["links"][3])
    first.click("#submit")
    second.click("#submit")
    expect(first.locator("body")).not_to_contain_text("already have your answer")
    expect(second.locator("body")).to_contain_text("already have your answer")
    assert store.survey(1)["score"] == 4
    first.close()
    second.close()


def test_a_low_score_puts_the_conversation_back_at_the_top_of_the_queue(page, surveyed, store, smtp_sink):
    import re

    page.goto(surveyed["links"][4])  # "1 - Very dissatisfied"
    page.fill("textarea[name=comment]", "Two weeks and still no parcel.")
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Thank you")
    login(page, surveyed)
    first = page.locator("#queue tbody tr").first
    expect(first.locator(".badge.reopened")).to_have_text("reopened")
    expect(first.locator("time")).to_have_count(1)  # waiting since the score, with a first-response target
    expect(first.locator(".due, .badge.overdue")).to_have_count(1)
    first.locator("a").click()
    expect(page.locator("#reopened")).to_contain_text("scored us 1 of 5")
    expect(page.locator("#reopened")).to_contain_text("Two weeks and still no parcel.")
    expect(page.locator("#body")).to_have_value(re.compile(r"1 out of 5 tells me we still haven't put things right"))
    page.screenshot(path=str(ARTIFACTS / "reopened.png"), full_page=True)
    page.fill("#body", page.input_value("#body") + "\nI have asked the courier to call you today.\n")
    page.click("#approve")
    expect(page.locator("p.flash[role=status]").first).to_contain_text("approved")
    sent_before = len(smtp_sink.messages)
    with surveyed["worker"].inbox:
        surveyed["worker"].tick(datetime(2026, 12, 23, 11, 0, tzinfo=timezone.utc))
    new = {m.rcpt_tos[0]: m.message for m in smtp_sink.messages[sent_before:]}
    reply = new["sarah.whitfield@gmail.com"]
    assert reply["In-Reply-To"] == smtp_sink.messages[0].message["In-Reply-To"]
    assert "asked the courier to call you" in reply.get_body(("plain",)).get_content()
    assert "1/5" in new["support@example.com"]["Subject"]
    assert page.dialogs == []


def test_only_admins_tune_thresholds(page, site):
    login(page, site)
    response = page.goto(site["url"] + "/admin/thresholds")
    assert response.status == 403


def test_admin_sets_the_threshold_from_measured_precision_and_recall(page, site):
    from worker.desk.detect import thresholds_of

    add_user(site["store"], "Ada Admin", PASSWORD, True, datetime.now(timezone.utc))
    login(page, site, name="Ada Admin")
    page.click("text=Thresholds")
    expect(page.locator("#current")).to_have_text("0.50")
    assert page.locator("#threshold-table tr").count() == 10  # header + 0.1 .. 0.9
    assert page.request.get(site["url"] + "/admin/thresholds/pr.png").headers["content-type"] == "image/png"
    page.wait_for_load_state("load")  # fires once the images have loaded
    assert page.evaluate("document.querySelector('img').naturalWidth") > 0  # the curve rendered
    page.screenshot(path=str(ARTIFACTS / "thresholds.png"), full_page=True)
    page.fill("#threshold", "0.7")
    page.click("#save-threshold")
    expect(page.locator("#current")).to_have_text("0.70")
    store, config = site["store"], site["config"]
    assert thresholds_of(config, store).complaint == 0.7  # read at each pass: no restart needed
    assert any(a["action"] == "changed setting" and a["actor"] == "Ada Admin"
               for a in store.db.query("SELECT actor, action FROM audit_log"))
    page.fill("#threshold", "2")
    page.click("#save-threshold")
    expect(page.locator("#current")).to_have_text("0.70")


def test_report_page_shows_figures_and_charts(page, site):
    from worker.desk.review import reject

    reject(site["store"], draft_id_for(site, "Order"), "Tom Baker", "Wrong courier named", datetime.now(timezone.utc))
    login(page, site)
    page.click("text=Report")
    expect(page.locator("h1")).to_contain_text("What goes wrong")
    expect(page.locator("body")).to_contain_text("3 complaints")
    expect(page.locator("#decisions tbody td").nth(2)).to_have_text("100%")  # rejected, this week
    page.wait_for_load_state("load")  # fires once the images have loaded
    widths = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
    assert widths and all(w > 0 for w in widths[:2])
