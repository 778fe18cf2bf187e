"""What the customer asks for, in order, with its facts: pure functions on real-looking mail."""

import time

import pytest

from worker.desk.asks import extract_asks


def test_a_cancellation_and_its_refund_with_the_amount_in_the_order_asked():
    asks = extract_asks(
        "Hi,\n\nI cancelled my subscription on 3 November but you charged me again. Please cancel my account "
        "for good and I want a full refund of the $192 you took this month.\n\nDaniel")
    assert asks.kinds == ("cancel", "refund")
    assert asks.get("refund").amount == "$192" and asks.left  # "I cancelled": a credit is no use to them


def test_a_call_back_takes_the_number_given():
    asks = extract_asks("The router still drops every evening. Can someone call me on 07700 900123 after 6pm? "
                        "I'd like an engineer to come out and fix it before Saturday.")
    assert asks.kinds == ("callback", "repair")
    assert asks.get("callback").number == "07700 900123"
    assert asks.deadline == "before Saturday"


def test_a_replacement_and_a_changed_address():
    asks = extract_asks("The mug arrived with a chip. Please send me a replacement, and could you change the "
                        "delivery address to my office, 4 Mill Lane?")
    assert asks.kinds == ("replacement", "change")


def test_data_requests_are_told_apart():
    assert extract_asks("Please delete all my personal data. Unsubscribe me too.").kinds == ("delete_data", "unsubscribe")
    assert extract_asks("Under GDPR I am making a subject access request.").kinds == ("export_data",)
    assert "cancel" not in extract_asks("Please delete my account and all my data.")


@pytest.mark.parametrize("text, times", [
    ("This is the third time I have written about order 48213.", 3),
    ("I've emailed twice and nobody answered.", 2),
    ("Still no reply after 4 emails.", 4),
    ("My parcel is late.", 1),
    ("I have phoned seven times and been passed between teams.", 7),
    # counts of something else: not times they have had to ask us
    ("I've been promised it tomorrow three times by your sales desk.", 1),
    ("I already tried the resend code maybe 10 times.", 1),
    ("This is the second time this has happened.", 1),
])
def test_how_many_times_they_have_had_to_ask(text, times):
    assert extract_asks(text).times_asked == times


def test_mentions_are_not_asks():
    asks = extract_asks("You promised a refund last week and a replacement the week before. Neither came.")
    assert asks.kinds == ()
    assert extract_asks("Thank you so much, Priya was wonderful on the phone.").kinds == ()
    assert extract_asks("Your team kindly merged my two accounts (old and new one), but the points are gone.").kinds == ()


def test_a_threat_to_cancel_is_not_a_request_to_cancel():
    threat = extract_asks("If this order isn't here by Monday, I'll cancel it and move our account elsewhere.")
    assert "cancel" not in threat  # cancelling his order would be the harm
    assert extract_asks("Please cancel my subscription after this box.").kinds == ("cancel",)


def test_a_refund_takes_the_sum_asked_for_never_a_price():
    assert extract_asks("I'm not paying £64 a week for this. Please refund this week's affected items.").get(
        "refund").amount is None
    assert extract_asks("Please refund the frozen items (£23.45 by my count).").get("refund").amount == "£23.45"
    # one sum in the mail and a refund "in full": that sum
    assert extract_asks("I had to buy a new ticket for €640. I want to be reimbursed in full.").get(
        "refund").amount == "€640"
    assert extract_asks("I want the £7.99 delivery charge refunded.").get("refund").amount == "£7.99"


def test_an_order_at_the_start_of_a_sentence_is_an_ask():
    assert extract_asks("The late fees are wrong. Refund all three fees, and fix your system.").kinds == ("refund",)
    assert extract_asks("Put a permanent marketing block on my file.").kinds == ("unsubscribe",)


@pytest.mark.parametrize("hostile", ["please " * 20_000, "call me " * 20_000, "1 " * 50_000, "a" * 200_000,
                                     "I want " + "x" * 100_000 + " refund"])
def test_hostile_text_costs_no_more_than_long_text(hostile):
    start = time.perf_counter()
    extract_asks(hostile)
    assert time.perf_counter() - start < 1.0


def test_someone_still_a_customer_has_not_left():
    assert not extract_asks("Please cancel my order 4471, it was a mistake.").left
    assert extract_asks("J'ai résilié le mois dernier et vous m'avez encore prélevée.").left


# -- the asks as actions a reviewer confirms ---------------------------------------------------


@pytest.fixture
def asked(mailbox, make_config, store):
    """A drafted complaint that asks for a refund and a call back."""
    from datetime import datetime, timezone

    from worker.desk.review import draft_pending
    from worker.loop import Worker

    from .conftest import label, mail

    now = datetime.now(timezone.utc)
    mailbox.append(mail("dan-1", "Daniel Ortiz <dan@example.net>", "Charged after cancelling",
                        "You charged me again. I want a full refund of the $192, and please call me on "
                        "07700 900123.\n\nDaniel", 0))
    config = make_config()
    worker = Worker(config, store)
    with worker.inbox:
        worker.poll(now)
    label(store, {"dan-1": (True, "medium", "billing")})
    draft_pending(store, config, now)
    (row,) = store.drafts(state="pending")
    return config, store, store.draft(row["id"]), now


def test_the_reply_follows_the_reviewers_decisions_unless_they_rewrote_it(asked):
    from worker.desk.actions import decide, undecided
    from worker.desk.review import ReviewError, save_edit

    config, store, draft, now = asked
    assert [a["kind"] for a in undecided(draft)] == ["refund", "callback"]
    with pytest.raises(ReviewError, match="Refund: say by when"):
        decide(store, config, draft["id"], [("will_do", ""), ("done", "")], "Tom Baker", now)
    assert decide(store, config, draft["id"], [("cannot", "the charge was for October, before you cancelled"),
                                                 ("done", "")], "Tom Baker", now)
    body = store.draft(draft["id"])["body"]
    assert "About your refund: I'm sorry, but I can't do that, because the charge was for October" in body
    assert "I've arranged for us to call you on 07700 900123." in body and not undecided(store.draft(draft["id"]))
    save_edit(store, draft["id"], "Hi Daniel,\n\nI'll ring you this afternoon about the $192.\n", "Tom Baker", now)
    assert not decide(store, config, draft["id"], [("done", ""), ("done", "")], "Tom Baker", now)
    assert store.draft(draft["id"])["body"] == "Hi Daniel,\n\nI'll ring you this afternoon about the $192.\n"


def test_the_command_line_approves_an_answer_to_asks_only_when_told_it_stands(asked):
    from click.testing import CliRunner

    from worker.cli import main
    from worker.desk.users import add_user

    config, store, draft, now = asked
    add_user(store, "Tom Baker", "correct horse battery", False, now)
    base = ["--config", config.path, "drafts"]
    shown = CliRunner().invoke(main, [*base, "show", str(draft["id"])])
    assert "Asked for: Refund $192" in shown.output and "not confirmed yet" in shown.output
    refused = CliRunner().invoke(main, [*base, "approve", str(draft["id"]), "--by", "Tom Baker"])
    assert refused.exit_code == 1 and "refund, call back" in refused.output and "--as-drafted" in refused.output
    approved = CliRunner().invoke(main, [*base, "approve", str(draft["id"]), "--by", "Tom Baker", "--as-drafted"])
    assert approved.exit_code == 0, approved.output
