"""The problem said back in our words, the kind of problem it is, and the questions a person answers."""

import time

import pytest

from worker.desk.context import build_context, questions
from worker.desk.restate import in_our_words, problem_sentence, problems, says_repeat


@pytest.mark.parametrize("sentence, expected", [
    ("I ordered the blue one and you sent me the wrong size.", "you ordered the blue one and we sent you the wrong size"),
    ("My kitchen ceiling is still down and I've paid £650 myself.",
     "your kitchen ceiling is still down and you've paid £650 yourself"),
    ("Since the update on Monday your app on our Samsung TV crashes.",
     "since the update on Monday our app on your Samsung TV crashes"),
    ('The agent said "gate\'s closed for you" and laughed when I asked why.',
     "the agent said 'gate's closed for you' and laughed when you asked why"),
    ("Tracking says delivered, but there's nothing here.", "tracking says delivered, but there's nothing there"),
    ("This is the second time and I'm close to giving up on you.",
     "this is the second time and you're close to giving up on us"),
    ("Jodie cut my hair far too short.", "Jodie cut your hair far too short"),  # a name keeps its capital
    ("But the driver drove off.", "the driver drove off"),
    ("went to the 19:30 showing and it started at 20:02.", "you went to the 19:30 showing and it started at 20:02"),
])
def test_the_problem_is_turned_round_to_speak_to_the_customer(sentence, expected):
    assert in_our_words(sentence) == expected


def test_the_problem_sentence_describes_rather_than_threatens_or_demands():
    text = ("This is the third week running that parts of my box have been inedible. I'm not paying £64 a week to do an "
            "emergency supermarket run. Please cancel my subscription.")
    assert problem_sentence(text).startswith("This is the third week running")
    assert problem_sentence("Either add more sessions or refund the difference. The waitlist never moves.") == \
        "The waitlist never moves."
    # "Love the design, but...": the problem is the clause after "but"
    assert problem_sentence("Love the design, but after one wash the print has gone patchy.") == \
        "After one wash the print has gone patchy."
    # the clause split never cuts a list in two
    assert problem_sentence("Box 3, which has the doors and the hinges, is missing.") == \
        "Box 3, which has the doors and the hinges, is missing."


@pytest.mark.parametrize("text, kinds", [
    ("Tracking says 'delivered - left in safe place' but there's nothing here.", ("not_arrived",)),
    ("It arrived at 1:50pm and everything in the frozen bag had defrosted.", ("late", "spoilt")),
    ("You sent the wrong size.", ("wrong_item",)),
    ("£42.99 taken on 1 June and again on 1 July.", ("charged_twice", "repeated")),
    ("I don't receive the SMS code when I try to log in.", ("locked_out",)),
    ("The zip pull came off. I will never shop here again.", ()),  # "again" alone is no repeat
])
def test_what_kind_of_problem_it_is(text, kinds):
    assert problems(text) == kinds


def test_a_restatement_that_says_it_happened_before_is_not_said_twice():
    assert says_repeat("this is the third time you've written") and not says_repeat("your parcel is late")


def test_questions_a_person_must_answer():
    text = ("Is there a fix coming? Could you fix it on your side? Can you refund me? I want to know how riders get "
            "customers' phone numbers. Where is my order?")
    assert questions(text) == ("Is there a fix coming?", "I want to know how riders get customers' phone numbers.")


def test_restating_is_linear_on_hostile_text():
    hostile = ("I " * 50_000) + ("'" * 20_000) + ('"' * 20_000) + "not " * 20_000
    start = time.perf_counter()
    ctx = build_context("x", hostile, None)
    in_our_words(hostile[:5_000])
    assert time.perf_counter() - start < 2, ctx.restated
