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
    ("I'm a reporter at the Evening Post working on a story about outages.", ("press",), "i'm a reporter"),
    ("The engineer made sexual comments and now texts me at night. I feel unsafe at home.", ("safeguarding",),
     "sexual comments"),
    ("You gave my room to my abuser and I had to leave at midnight.", ("safeguarding",), "my abuser"),
    ("My mother has been without electricity since Saturday. She uses an oxygen concentrator at home.",
     ("safeguarding",), "oxygen concentrator … without electricity"),
    ("Since then he texts me: 'I know you're home'. I'm frightened to open my door.", ("safeguarding",),
     "i know you're home"),
    ("I have no money left for food until Friday because of your double charge.", ("safeguarding",),
     "no money left for food"),
    ("I have reported the break-in to the police.", ("legal",), "police"),
    ("The Food Standards Agency will hear about this.", ("legal",), "food standards agency"),
    ("Our alarm company is NSI approved and your engineer broke it.", ("legal",), "nsi"),
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


def test_a_person_at_risk_never_gets_the_product_safety_step():
    stakes = assess("Your driver harassed me on my doorstep and I don't feel safe. He knows where I live.")
    assert stakes.kinds == ("safeguarding",) and stakes.safety_step is None
    both = assess("The heater sparked and caught fire, and your engineer threatened me when I complained.")
    assert both.kinds == ("safeguarding", "safety") and both.safety_step == "electrical"  # a real hazard too


def test_a_customer_threatening_the_papers_is_legal_and_a_reporter_is_press():
    assert assess("If you don't refund me by Friday I am going to the press.").kinds == ("legal",)
    assert assess("I am a journalist at the Herald and would like a comment on the outage.").kinds == ("press",)


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


def test_a_car_failing_on_a_fast_road_gets_the_vehicle_safety_step():
    stakes = assess("The hybrid warning came on and the car dropped into limp mode on the dual carriageway. "
                    "I had to crawl to the hard shoulder with lorries passing me.")
    assert "safety" in stakes and stakes.safety_step == "vehicle"
