"""The loop guard: every machine-sent fixture is recognised, no human one is."""

import pytest

from worker.mail.guard import automated_reason
from worker.mail.parse import parse_message

from .conftest import AUTOMATED_FIXTURES, HUMAN_FIXTURES, eml

OWN = ["support@example.com"]


@pytest.mark.parametrize("name", AUTOMATED_FIXTURES)
def test_automated_mail_is_recognised(name):
    assert automated_reason(parse_message(eml(name)), OWN)


@pytest.mark.parametrize("name", HUMAN_FIXTURES)
def test_mail_from_people_is_not_flagged(name):
    assert automated_reason(parse_message(eml(name)), OWN) is None


@pytest.mark.parametrize(
    "name, reason_part",
    [
        ("ooo_exchange.eml", "Auto-Submitted"),
        ("ooo_subject_only.eml", "subject"),
        ("dsn_exchange.eml", "multipart/report"),
        ("mailing_list.eml", "Precedence: list"),
        ("newsletter.eml", "Precedence: bulk"),
        ("x_autoreply.eml", "x-autoreply"),
        ("noreply_sender.eml", "system sender"),
        ("own_address.eml", "our own address"),
    ],
)
def test_the_reason_says_why(name, reason_part):
    assert reason_part in automated_reason(parse_message(eml(name)), OWN)


def test_auto_submitted_no_is_a_person():
    raw = b"From: a@b.example\nAuto-Submitted: no\nSubject: hi\n\nMy order is late.\n"
    assert automated_reason(parse_message(raw), OWN) is None


def test_empty_return_path_is_a_bounce():
    raw = b"Return-Path: <>\nFrom: someone@b.example\nSubject: hi\n\nbody\n"
    assert "Return-Path" in automated_reason(parse_message(raw), OWN)


def test_list_unsubscribe_alone_is_bulk_mail():
    raw = b"From: shop@b.example\nList-Unsubscribe: <mailto:u@b.example>\nSubject: Sale\n\nbody\n"
    assert automated_reason(parse_message(raw), OWN)


def test_a_sender_over_the_hourly_limit_is_treated_as_a_loop():
    msg = parse_message(eml("question.eml"))
    assert automated_reason(msg, OWN, recent_from_sender=9, sender_limit_per_hour=10) is None
    assert "in an hour" in automated_reason(msg, OWN, recent_from_sender=10, sender_limit_per_hour=10)
