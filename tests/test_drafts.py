"""Drafting: the recovery steps in order, remedies from config, safe headers, threading."""

from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default

import pytest

from worker.config import parse_config
from worker.desk.context import build_context, first_name, references
from worker.desk.drafts import TemplateError, Templates, compose, render_reply
from worker.desk.restate import problem_sentence
from worker.desk.stakes import Stakes, admissions, assess
from worker.mail.mime import HeaderError, build_reply, reply_references, reply_subject
from worker.mail.parse import parse_message

from .conftest import ROOT, eml

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)
CONFIG = parse_config('[imap]\nusername = "support@example.com"\n[drafts]\ntimezone = "Europe/London"\n')
TEMPLATES = Templates.load(ROOT / "templates" / "replies")
ENV = TEMPLATES.env("en")
# Greet, say sorry for what happened in our words, what we do and by when, the extra, invite a reply.
STEPS = ["Hi ", "sorry that you took a day off work", "I'll come back to you {deadline}", "we would like to offer you",
         "reply"]


def draft_for(name, severity="medium", category="delivery", config=CONFIG):
    msg = parse_message(eml(name))
    ctx = build_context(msg.subject, msg.new_text, msg.from_name, msg.signature)
    return compose(TEMPLATES, config, ctx, severity, category, Stakes()).body


def compose_in(folder, ctx):
    return compose(Templates.load(folder), CONFIG, ctx, "low", "delivery", Stakes())


@pytest.mark.parametrize("severity", ["low", "medium", "high", "critical"])
@pytest.mark.parametrize("category", ["delivery", "billing", "defect", "outage", "staff", "account", "privacy", "other"])
def test_every_draft_follows_the_recovery_steps_in_order(severity, category):
    body = draft_for("gmail_complaint_delivery.eml", severity, category)
    steps = list(STEPS)
    if category in ("defect", "privacy") or severity == "low":  # their next step is worded for the problem
        steps[2] = "{deadline}"
    if severity == "low":  # a small thing: two or three sentences, the same steps in short
        steps[3] = "we'd like to offer you"
        if category in ("staff", "other"):  # passed on to whoever can put it right; nothing to come back with
            steps[2] = "passed"
        assert len(body.split()) < 90, body
    if severity in ("high", "critical"):  # owned by a person
        assert "myself" in body or "personally" in body, body
    if category == "privacy" and severity in ("low", "medium"):
        steps.remove("we would like to offer you" if severity == "medium" else "we'd like to offer you")
    positions = [body.find(step) for step in steps]
    assert -1 not in positions, (severity, category, body)
    assert positions == sorted(positions)


def test_apology_and_extra_scale_with_severity():
    low, critical = draft_for("gmail_complaint_delivery.eml", "low"), draft_for("gmail_complaint_delivery.eml", "critical")
    assert "should never have happened" in critical and "should never" not in low
    assert len(low.split()) < len(critical.split()) * 0.7
    assert "personal call from our operations manager" in critical  # when: the promised time says


def test_remedies_come_from_config():
    config = parse_config('[imap]\nusername = "s@example.com"\n[drafts.remedies.delivery]\nhigh = "a bunch of flowers"\n')
    assert "we would like to offer you a bunch of flowers." in draft_for("gmail_complaint_delivery.eml", "high", config=config)
    assert "free delivery on your next order" in draft_for("gmail_complaint_delivery.eml", "low", config=config)


def test_the_draft_uses_the_customers_own_words_and_references():
    body = draft_for("outlook_reply_original_message.eml", "high", "billing")
    assert body.startswith("Hi Mark,")
    assert "sorry that you have now been charged twice for invoice INV-2026-0932" in body  # in our words
    assert body.count("INV-2026-0932") == 1  # the customer's words name it: not again


@pytest.mark.parametrize("display, signature, text, expected", [
    ("Sarah Whitfield", "", "", "Sarah"),
    ("Henderson, Mark", "", "", "Mark"),
    ("MARIA LOPEZ", "", "", "Maria"),
    (None, "Kind regards,\nMaria Lopez\nPractice Manager", "", "Maria"),
    ("support@example.com", "", "", None),
    (None, "", "my order is late", None),
    ("Dr. Amara Okafor", "", "", "Amara"),
])
def test_first_name(display, signature, text, expected):
    assert first_name(display, signature, text) == expected


def test_neutral_greeting_when_no_name_is_known():
    ctx = build_context("late", "My order is late.", None)
    assert ctx.greeting_name == "there"


def test_key_sentence_and_references():
    text = "Hello,\n\nI love your shop usually.\nBut order #48213 has still not\narrived after two weeks.\n\nThanks"
    assert problem_sentence(text) == "But order #48213 has still not arrived after two weeks."
    assert problem_sentence("Order 51177.") is None  # a bare reference states no problem
    assert references("ticket 55102, Order #48213 and booking ABX-2231") == ("ticket 55102", "order #48213", "booking ABX-2231")


def test_misspelt_template_variable_is_an_error_not_a_hole(tmp_path):
    (tmp_path / "delivery.txt.j2").write_text("Hi {{ customer.greting_name }}")
    with pytest.raises(TemplateError, match="delivery.txt.j2.*greting_name"):
        compose_in(tmp_path, build_context("x", "late", "Ann"))


def test_templates_run_in_the_sandbox(tmp_path):
    (tmp_path / "delivery.txt.j2").write_text("{{ customer.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateError, match="sandbox forbids|unsafe|attribute"):
        compose_in(tmp_path, build_context("x", "late", "Ann"))


def test_template_syntax_error_names_file_and_line(tmp_path):
    (tmp_path / "delivery.txt.j2").write_text("line one\n{% if %}")
    with pytest.raises(TemplateError, match="delivery.txt.j2 line 2"):
        compose_in(tmp_path, build_context("x", "late", "Ann"))


def test_signed_reply_escapes_html_and_signs_with_the_reviewer():
    reply = render_reply(ENV, CONFIG, "Hi <b>Ann</b>,\n\n<script>alert(1)</script> & more", "Tom Baker", "Re: <x>")
    assert reply.text.rstrip().endswith("Tom Baker\nThe Example support team")
    assert "<script>" not in reply.html and "&lt;script&gt;" in reply.html and "&lt;b&gt;Ann" in reply.html
    assert "<title>Re: &lt;x&gt;</title>" in reply.html


@pytest.mark.parametrize("original, expected", [
    ("Order late", "Re: Order late"),
    ("Re: Order late", "Re: Order late"),
    ("RE: Re: AW: Order late", "Re: Order late"),
    ("Re[2]: Order late", "Re: Order late"),
    ("", "Re: your message"),
    ("Hello\r\nBcc: victim@example.com", "Re: Hello Bcc: victim@example.com"),
])
def test_reply_subject_never_stacks_and_never_breaks_lines(original, expected):
    assert reply_subject(original) == expected


def test_references_are_trimmed_keeping_first_and_last():
    refs = [f"m{i}@x" for i in range(20)]
    chain = reply_references(refs, "last@x")
    assert len(chain) == 10 and chain[0] == "m0@x" and chain[-1] == "last@x"


def _reply(**overrides):
    values = dict(to_name="Sarah Whitfield", to_addr="sarah@example.net", from_name="Example Support",
                  from_addr="support@example.com", subject="Re: Order late", in_reply_to="orig@mail.gmail.com",
                  references=["first@x", "orig@mail.gmail.com"], text="Hello", html="<p>Hello</p>",
                  message_id="reply-1@support.example.com", date=NOW)
    values.update(overrides)
    return message_from_bytes(build_reply(**values).raw, policy=default)


def test_reply_threads_into_the_conversation():
    msg = _reply()
    assert msg["In-Reply-To"] == "<orig@mail.gmail.com>"
    assert msg["References"] == "<first@x> <orig@mail.gmail.com>"
    assert msg["Message-ID"] == "<reply-1@support.example.com>"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def test_reply_to_a_real_client_message_threads_back(tmp_path):
    original = parse_message(eml("apple_mail_reply.eml"))
    msg = _reply(in_reply_to=original.message_id, references=reply_references(original.references, original.message_id))
    assert msg["In-Reply-To"] == f"<{original.message_id}>"
    assert msg["References"].split()[-1] == f"<{original.message_id}>"
    assert parse_message(msg.as_bytes()).thread_ids()[0] == original.message_id


@pytest.mark.parametrize("field, value", [
    ("to_name", "Evil\r\nBcc: victim@example.com"),
    ("subject", "Re: hi\nBcc: victim@example.com"),
    ("to_name", "Ann\x00\x1b[31m"),
])
def test_header_injection_is_impossible(field, value):
    raw = _reply(**{field: value}).as_bytes()
    headers = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in headers and b"\x00" not in headers and b"\x1b" not in headers


@pytest.mark.parametrize("addr", ["a@b@c", "victim@example.com\r\nBcc: x@y", "<a@b.c>", "no-at-sign"])
def test_bad_recipient_addresses_are_refused(addr):
    with pytest.raises(HeaderError):
        _reply(to_addr=addr)


def drafted(text, severity="medium", category="other", subject="Your service", language=None):
    ctx = build_context(subject, text, None)
    return compose(TEMPLATES, CONFIG, ctx, severity, category, assess(subject + "\n" + text), customer_language=language)


def test_a_harassment_report_gets_safeguarding_first_and_no_product_script():
    composed = drafted("The engineer who came on Tuesday made sexual comments and now texts me at night. "
                       "I feel unsafe in my own home. Please call me on 07700 900123.\n\nMaria", "critical", "staff")
    body = composed.body
    assert body.index("your safety matters more than anything") < body.index("sorry")
    assert "Our customer welfare lead will call you today on 07700 900123" in body
    assert "stop using it" not in body and "collect it" not in body  # the product script
    assert body.count("07700 900123") == 1 and "offer you" not in body


def test_a_reporter_gets_a_neutral_reply_for_the_press_team_held_for_its_role():
    composed = drafted("Hi, I'm a reporter at the Evening Post working on a story about broadband outages. "
                       "Was there an outage in Leeds on Tuesday?\n\nTom Reed", "high", "outage")
    assert composed.template == "press.txt.j2" and composed.hold_role == "communications"
    assert "our communications team" in composed.body
    for words in ("sorry", "on us", "offer", "free"):
        assert words not in composed.body.lower()


def test_every_ask_is_answered_in_order_and_the_extra_never_replaces_one():
    body = drafted("I cancelled my plan on 3 November but you charged me again. Please cancel my account for good "
                   "and I want a full refund of the $192 you took. This is the third time I've written.",
                   "high", "billing").body
    assert "third time you've written" in body and "three times" not in body  # said once
    assert body.index("you want to cancel") < body.index("your refund of $192")
    assert "offer you" not in body  # a month free is no answer to someone leaving
    kept = drafted("The kettle stopped working after a week. Please send me a replacement.", "medium", "defect").body
    assert "I'm arranging a replacement" in kept and kept.index("replacement for you") < kept.index("On top of that")


def test_french_drafts_answer_the_asks_too():
    composed = drafted("Bonjour, je veux résilier mon abonnement et être remboursée de 50 €. Merci de me rappeler "
                       "au 06 12 34 56 78.\n\nClaire", "medium", "billing", "Résiliation", language="fr")
    assert composed.language == "fr"
    body = composed.body
    assert "résilier" in body and "Votre remboursement de 50 €" in body and "Je vous appellerai au 06 12 34 56 78" in body
    assert "avoir de 15 %" not in body


@pytest.mark.parametrize("template", ["legal.txt.j2", "press.txt.j2", "safeguarding.txt.j2"])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_template_for_a_held_case_writes_what_the_admission_check_flags(template, language):
    source = TEMPLATES.env(language).loader.get_source(TEMPLATES.env(language), template)[0]
    assert admissions(source) == []


def test_a_critical_case_that_cannot_wait_gets_a_call_from_whoever_is_on_call_whatever_the_hour():
    from worker.desk.drafts import urgent_draft
    from worker.desk.review import promise

    composed = drafted("My mother's stairlift stopped on Friday and she is stuck upstairs. The engineer must come "
                       "before tomorrow, she can't get to the bathroom. Call me on 07700 900456.", "critical", "defect")
    assert "our duty manager will call you {deadline} on 07700 900456, whatever the hour" in composed.body
    friday_evening = datetime(2026, 11, 27, 19, 0, tzinfo=timezone.utc)
    assert promise(CONFIG, "critical", friday_evening, "en", urgent=True)[2] == "by 9pm today"
    assert "Monday" in promise(CONFIG, "critical", friday_evening, "en")[2]  # business hours wait the weekend
    stored = {"severity": "critical", "stakes": None, "asks": '{"asks": [], "deadline": "before tomorrow"}'}
    assert urgent_draft(stored) and not urgent_draft(dict(stored, severity="high"))
    calm = drafted("The app crashed and I lost a day of work. I'd like an answer by Friday.", "critical", "outage")
    assert "duty manager" not in calm.body  # critical, but it can wait for business hours


BY = "by 5pm on Monday 23 November"


@pytest.mark.parametrize("promise, says", [
    (None, "I wanted to check in after my last email about order 5512. Has everything"),
    ({"by": BY, "kept": True, "late": False, "open": False}, "I wanted to check in after my last email about order 5512."),
    ({"by": BY, "kept": False, "late": True, "open": False}, f"I'm sorry I didn't come back to you {BY}, as I had promised."),
    ({"by": BY, "kept": False, "late": False, "open": True},
     f"I promised to come back to you {BY}. If you haven't had that answer from us, I'm sorry"),
])
def test_the_follow_up_recalls_the_promise_made_and_owns_a_late_one(promise, says):
    from worker.desk.drafts import render_template

    text = render_template(ENV, "follow_up.txt.j2", {"customer": {"greeting_name": "Ann"}, "subject": "Late parcel",
                                                     "reference": "order 5512", "category": "delivery",
                                                     "promise": promise})
    assert says in " ".join(text.split())
    if promise and promise["kept"]:
        assert "sorry" not in text
