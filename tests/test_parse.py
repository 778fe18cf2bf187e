"""Parsing real-looking mail: text, quotes, signatures, charsets, headers, attachments."""

import pytest

from worker.mail.parse import UnparseableMessage, decode_bytes, parse_message, sniff_message_id
from worker.mail.text import cut_quotes, cut_signature, html_to_text

from .conftest import EML, HUMAN_FIXTURES, UNPARSEABLE_FIXTURES, eml


def parsed(name):
    return parse_message(eml(name))


@pytest.mark.parametrize("name", HUMAN_FIXTURES)
def test_every_human_fixture_parses_with_a_sender_and_new_text(name):
    msg = parsed(name)
    assert msg.from_addr and "@" in msg.from_addr
    assert msg.new_text.strip()
    assert len(msg.new_text) <= len(msg.text)


def test_there_are_at_least_forty_fixtures():
    assert len(list(EML.glob("*.eml"))) >= 40


def test_plain_text_preferred_over_html():
    msg = parsed("gmail_complaint_delivery.eml")
    assert "<div" not in msg.text
    assert "order #48213" in msg.new_text


def test_html_only_mail_becomes_paragraphs_without_script_or_style():
    msg = parsed("html_only.eml")
    assert "alert" not in msg.text and "color:red" not in msg.text and "ignore me" not in msg.text
    assert "has a cracked screen. The box was fine" in msg.text  # source newlines folded
    assert "- Photo 1: the crack\n- Photo 2: the box" in msg.text
    assert "Hello,\n\nThe tablet" in msg.text


@pytest.mark.parametrize(
    "name, kept, cut",
    [
        ("gmail_reply_quoted.eml", "second time", "checking with the courier"),
        ("outlook_reply_original_message.eml", "charged twice", "please find your invoice"),
        ("outlook_html_reply.eml", "Please reopen it.", "Your ticket has been resolved"),
        ("apple_mail_reply.eml", "leaks from the base", "sent you a replacement"),
        ("iphone_reply.eml", "Third time this year", "is confirmed"),
        ("german_outlook_reply.eml", "inakzeptabel", "kommt am Montag"),
        ("forwarded_complaint.eml", "Sending this again", "left mud"),
    ],
)
def test_quoted_history_is_cut_from_new_text_but_kept_in_text(name, kept, cut):
    msg = parsed(name)
    assert kept in msg.new_text
    assert cut not in msg.new_text
    assert cut in msg.text


def test_gmail_attribution_wrapped_over_two_lines_is_recognised():
    text = "New words.\n\nOn Wed, 11 Nov 2026 at 10:21, Support <s@example.com>\nwrote:\n\n> old"
    assert cut_quotes(text) == "New words."


@pytest.mark.parametrize(
    "name, signature_start, kept_last_words",
    [
        ("signature_dashdash.eml", "--", "deadline on Monday."),
        ("sign_off_regards.eml", "Kind regards,", "missed appointments yesterday."),
        ("iphone_reply.eml", "Sent from my iPhone", "Unbelievable"),
        ("outlook_html_reply.eml", "Priya Natarajan", "Please reopen it."),
    ],
)
def test_signatures_are_cut_and_kept_apart(name, signature_start, kept_last_words):
    msg = parsed(name)
    assert msg.signature.startswith(signature_start)
    assert msg.new_text.endswith(kept_last_words)


def test_thanks_in_the_middle_of_a_mail_is_not_a_signature():
    text = "Thanks for the quick answer.\nBut the parcel is still missing and I need it by Friday."
    assert cut_signature(text) == (text, "")


@pytest.mark.parametrize(
    "name, needle",
    [
        ("qp_utf8.eml", "89,90 € statt 49,90 €"),
        ("base64_body.eml", "charged $14.99 twice"),
        ("iso8859_1.eml", "arrivé abîmé et la cafetière est cassée"),
        ("windows1252_mislabelled.eml", "didn’t show. That’s the “guaranteed window”"),
        ("shift_jis.eml", "注文番号 58231 の商品がまだ届きません。①"),
        ("koi8r.eml", "с моей карты списали деньги дважды"),
        ("utf8_labelled_ascii.eml", "35 € promis"),
        ("unknown_charset.eml", "late but it's fine now"),
    ],
)
def test_charsets_decode_including_mislabelled_ones(name, needle):
    assert needle in parsed(name).text


@pytest.mark.parametrize(
    "name, subject, from_name",
    [
        ("qp_utf8.eml", "Rechnung für Oktober – falscher Betrag", "Zoë Müller"),
        ("rfc2047_subject_name.eml", "¡Sin internet desde hace 3 días!", "Mária González"),
        ("koi8r.eml", "Проблема с оплатой", "Иван Петров"),
        ("shift_jis.eml", "注文した商品が届きません", "田中"),
    ],
)
def test_encoded_word_subjects_and_names(name, subject, from_name):
    msg = parsed(name)
    assert msg.subject == subject
    assert msg.from_name == from_name


def test_folded_headers_are_unfolded():
    msg = parsed("folded_headers.eml")
    assert msg.subject.startswith("Our whole team has been unable to access the reporting dashboard since")
    assert "\n" not in msg.subject
    assert msg.from_addr == "long.name@bigcorp-enterprise-solutions.example"
    assert msg.references == ("a1@x.example", "a2@x.example", "a3@x.example")


def test_broken_headers_do_not_crash_and_keep_what_can_be_read():
    msg = parsed("broken_headers.eml")
    assert msg.from_addr == "broken.sender@example.net"
    assert msg.date is None
    assert "crashes every time" in msg.text


def test_missing_message_id_is_none():
    assert parsed("no_message_id.eml").message_id is None
    assert sniff_message_id(eml("no_message_id.eml")) is None


def test_sniffed_message_id_matches_the_parsed_one():
    for name in HUMAN_FIXTURES:
        assert sniff_message_id(eml(name)) == parsed(name).message_id, name


def test_attachments_are_described_not_kept():
    msg = parsed("large_attachment.eml")
    (attachment,) = msg.attachments
    assert attachment.name == "receipt scan.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == 600_000
    assert "washing machine" in msg.new_text


def test_inline_images_are_attachments_and_the_html_text_remains():
    msg = parsed("mixed_inline_image.eml")
    assert [a.name for a in msg.attachments] == ["error.png"]
    assert "error every time I try to pay" in msg.new_text


def test_threading_headers_closest_first():
    msg = parsed("gmail_reply_quoted.eml")
    assert msg.in_reply_to == "reply-1@support.example.com"
    assert msg.thread_ids() == ["reply-1@support.example.com", "CAH7x9Qm1pLw3Kd8zR4n@mail.gmail.com"]


def test_dates_are_utc():
    msg = parsed("iphone_reply.eml")
    assert msg.date.isoformat() == "2026-11-15T12:58:02+00:00"


def test_header_values_never_carry_line_breaks():
    raw = b"From: a@b.example\nSubject: =?utf-8?Q?hello=0D=0ABcc:_victim@x.example?=\n\nbody\n"
    assert "\n" not in parse_message(raw).subject and "\r" not in parse_message(raw).subject


@pytest.mark.parametrize("name", UNPARSEABLE_FIXTURES)
def test_bytes_that_are_not_mail_raise_unparseable(name):
    with pytest.raises(UnparseableMessage):
        parse_message(eml(name))


def test_empty_message_is_unparseable():
    with pytest.raises(UnparseableMessage):
        parse_message(b"   \r\n")


def test_decode_bytes_never_raises():
    assert decode_bytes("café".encode("utf-8"), "no-such-charset") == "café"
    assert decode_bytes(b"\x81\x8d\x8f", "utf-8")  # undecodable everywhere: replaced
    assert decode_bytes("naïve".encode("cp1252"), None) == "naïve"


def test_deeply_nested_html_does_not_hit_the_recursion_limit():
    html = "<div>" * 5000 + "deep words" + "</div>" * 5000
    assert html_to_text(html) == "deep words"


def test_a_bare_name_closing_the_mail_is_the_signature_so_it_is_never_a_reason():
    raw = (b"From: Jean Dupont <jean@example.fr>\nTo: support@example.com\nSubject: Parcel\n"
           b"Message-ID: <jd-1@example.fr>\nContent-Type: text/plain; charset=utf-8\n\n"
           b"My parcel never came and nobody answers the phone.\n\nJean\n")
    msg = parse_message(raw)
    assert msg.new_text == "My parcel never came and nobody answers the phone." and msg.signature == "Jean"
    mid = parse_message(raw.replace(b"\n\nJean\n", b" Jean at the depot was no help.\n"))
    assert "Jean at the depot" in mid.new_text  # a name inside the mail stays
