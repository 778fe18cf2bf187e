"""Anyone can send the inbox anything: hostile mail is parsed in bounded time and never
borrows someone else's identity. The fixtures are made here, not kept as megabytes in git."""

import time

import pytest

from worker.context import build_context
from worker.parse import parse_message
from worker.text import html_texts

from .conftest import eml, smtp_toml


def mail(body: str, *, headers: str = "", content_type: str = "text/plain") -> bytes:
    base = {"From": "Jo Bloggs <jo@customer.example>", "To": "support@example.com", "Subject": "Order 4471",
            "Message-ID": "<hostile@customer.example>"}
    lines = dict(base)
    for line in filter(None, headers.split("\r\n")):
        key, _, value = line.partition(": ")
        lines[key] = value
    head = "".join(f"{k}: {v}\r\n" for k, v in lines.items())
    return f"{head}Content-Type: {content_type}; charset=utf-8\r\n\r\n{body}".encode()


HOSTILE = {
    "100,000 nested divs": mail("<div>" * 100_000 + "help" + "</div>" * 100_000, content_type="text/html"),
    "1 MB From": mail("hi", headers="From: " + "a" * 1_000_000),
    "1 MB To": mail("hi", headers="To: " + "a" * 1_000_000),
    "1 MB Cc of dots": mail("hi", headers="Cc: " + "a." * 500_000),
    "1 MB Subject": mail("hi", headers="Subject: " + "x " * 500_000),
    "15 KB of @": mail("@" * 15_000),
    "long digit runs": mail(("1" * 100_000 + " ") * 5),
    "a run of spaces in HTML": mail("<p>" + " " * 500_000 + "</p>", content_type="text/html"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_mail_is_parsed_in_bounded_time(name):
    started = time.perf_counter()
    msg = parse_message(HOSTILE[name])
    build_context(msg.subject, msg.new_text, msg.from_name, msg.signature)
    assert time.perf_counter() - started < 3, name


def test_deep_html_still_loses_its_quoted_history():
    html = "<div>" * 5_000 + "My parcel is late.<div class='gmail_quote'>On Monday you wrote: ...</div>" + "</div>" * 5_000
    full, new, _ = html_texts(html)
    assert "On Monday" in full and "On Monday" not in new and "My parcel is late." in new


@pytest.mark.parametrize("header, name", [
    ("=?utf-8?q?sarah.whitfield=40gmail.example?= <attacker@evil.example>", "sarah.whitfield@gmail.example"),
    ('"sarah.whitfield@gmail.example" <attacker@evil.example>', "sarah.whitfield@gmail.example"),
    ("=?utf-8?q?support=40example.com?= <attacker@evil.example>", "support@example.com"),
])
def test_the_sender_is_the_address_not_what_the_display_name_says(header, name):
    msg = parse_message(mail("hi", headers=f"From: {header}"))
    assert msg.from_addr == "attacker@evil.example"
    assert msg.from_name == name


def test_encoded_display_names_are_still_decoded():
    msg = parse_message(mail("hi", headers="From: =?utf-8?q?Andr=C3=A9_Dupont?= <andre@client.example>"))
    assert (msg.from_name, msg.from_addr) == ("André Dupont", "andre@client.example")


def test_a_hostile_mail_between_two_normal_ones_holds_neither_back(mailbox, make_config, store, smtp_sink, model_dir):
    from worker.loop import Worker

    mailbox.append(eml("gmail_complaint_delivery.eml"))
    mailbox.append(HOSTILE["100,000 nested divs"])
    mailbox.append(eml("question.eml"))
    worker = Worker(make_config(smtp_toml(smtp_sink, model_dir)), store)
    started = time.perf_counter()
    with worker.inbox:
        summary = worker.tick(_now())
    assert time.perf_counter() - started < 30
    assert summary.new == 3
    states = [m["state"] for m in store.messages(limit=10)]
    assert states.count("parsed") == 3, states


def _now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
