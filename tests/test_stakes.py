"""High-stakes rules and language identification: pure functions on customers' words."""

import time

import pytest

from worker.desk.language import detect
from worker.desk.stakes import admissions, assess


@pytest.mark.parametrize("text, kinds, found", [
    ("Water ran onto the plug and it sparked. I don't feel safe using it.", ("safety",), "sparked"),
    ("My solicitor will be in touch about the boiler.", ("legal",), "solicitor"),
    ("I will report this to the data regulator.", ("legal",), "regulator"),
    ("A journalist friend is interested in this story.", ("legal",), "journalist friend"),
    ("You sent my statement to the wrong address.", ("privacy",), "statement to the wrong address"),
    ("Please delete my data now.", ("privacy",), "delete my data"),
    ("My parcel is late again.", (), None),
])
def test_rules_say_which_stakes_and_which_words(text, kinds, found):
    stakes = assess(text)
    assert stakes.kinds == kinds
    if found:
        assert any(hit.found.lower() == found for hit in stakes.hits), stakes.hits


@pytest.mark.parametrize("text, step", [
    ("The charger sparked and the cable melted.", "electrical"),
    ("There was glass in my sandwich and I cut my mouth.", "food"),
    ("The brakes failed on the bike you serviced; it is dangerous.", "vehicle"),
    ("The ladder is dangerous: a rung snapped.", "general"),
])
def test_the_safety_step_fits_the_product(text, step):
    assert assess(text).safety_step == step


def test_a_failed_replacement_is_noticed():
    assert assess("The replacement you sent has broken too.").replacement_failed
    assert not assess("The kettle has broken.").replacement_failed


def test_admissions_of_fault_are_found():
    assert admissions("That's on us, not you. We accept full responsibility.") == ["on us", "We accept full responsibility"]
    assert admissions("Thank you for your email. I have passed it to our manager.") == []


def test_stakes_rules_are_linear_on_hostile_text():
    for text in ("a" * 200_000, "don't " * 40_000, "glass in " * 30_000, "someone else's " * 20_000):
        start = time.perf_counter()
        assess(text)
        admissions(text)
        assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("text, code", [
    ("Bonjour, ma commande n'est toujours pas arrivée et personne ne répond.", "fr"),
    ("Guten Tag, ich habe die Rechnung zweimal bezahlt und keine Erstattung bekommen.", "de"),
    ("Hello, the kettle I bought sparked when I plugged it in this morning.", "en"),
    ("Order 51177", None),            # too short to tell
    ("Merci", None),
])
def test_language_is_detected_or_left_unknown(text, code):
    assert detect(text) == code
