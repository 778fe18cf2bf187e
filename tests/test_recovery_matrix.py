"""Drafts a support lead would send: every category and severity, and the high-stakes cases.

Each message below is drafted the way the worker drafts it (context from the thread, stakes,
language, template) and approved at an awkward time; the reply is then checked the way a lead
reads it: the recovery steps in order, the safety step first, no admission to a lawyer, a
promised time inside business hours and after approval, each reference and remedy once.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from worker.config import parse_config
from worker.desk.context import build_context
from worker.desk.drafts import DEADLINE, Templates, compose, fill_deadline
from worker.desk.hours import BusinessHours
from worker.desk.language import detect
from worker.desk.review import promise
from worker.desk.stakes import admissions, assess

from .conftest import ROOT

CONFIG = parse_config('[imap]\nusername = "support@example.com"\n[drafts]\ntimezone = "Europe/London"\n')
TEMPLATES = Templates.load(ROOT / "templates" / "replies")
APPROVALS = [datetime(2026, 11, 23, 6, 42, tzinfo=timezone.utc), datetime(2026, 11, 23, 22, 50, tzinfo=timezone.utc),
             datetime(2026, 11, 27, 16, 30, tzinfo=timezone.utc), datetime(2026, 11, 28, 11, 0, tzinfo=timezone.utc),
             datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)]


@dataclass
class Mail:
    name: str
    subject: str
    body: str
    severity: str
    category: str
    earlier: tuple[str, ...] = ()
    kind: str = "complaint"


MAILS = [
    # delivery
    Mail("Ben Carter", "Parcel a day late", "Hi, my parcel (order 51402) came a day later than the date you gave. "
         "Not the end of the world, just letting you know.\n\nBen", "low", "delivery"),
    Mail("Priya Shah", "Where is order 88213?", "Hello,\n\nOrder 88213 was due on Tuesday and it still hasn't arrived. "
         "The tracking has not moved for four days.\n\nPriya", "medium", "delivery"),
    Mail("Sarah Whitfield", "Re: Order #48213 still hasn't arrived",
         "Now the courier says it was left in a \"safe place\". There is nothing here. This is the second time this has "
         "happened with your shop and I'm close to giving up on you.\n\nSarah", "high", "delivery",
         earlier=("I ordered a standing desk (order #48213) on 28 October and was promised delivery within 5 working "
                  "days. The tracking page has said \"in transit\" for a week. Nobody came.",)),
    Mail("Tom Reyes", "Wedding cake never delivered", "You never delivered our wedding cake (order WED-2291) on Saturday. "
         "We had 120 guests and nothing to serve. I am beyond furious and want my money back today.\n\nTom",
         "critical", "delivery"),
    # billing
    Mail("Ana Lima", "Small overcharge", "Hi, I think I was charged £2.50 too much on my last bill. Could you check?",
         "low", "billing"),
    Mail("Mark Henderson", "Invoice INV-2026-0932 charged twice", "Hello,\n\nWe have been charged twice for invoice "
         "INV-2026-0932 (£1,240.00 on 2 and 3 November). Our finance team needs the duplicate refunded before month end."
         "\n\nRegards,\nMark Henderson", "medium", "billing"),
    Mail("Jo Evans", "Charged after cancelling", "I cancelled my subscription in October and you have charged me £49.99 "
         "again this month. This is the second time I've had to write about this.\n\nJo", "high", "billing"),
    Mail("Kwame Mensah", "£3,400 taken from my account", "You took £3,400 from my account instead of £34.00. My rent "
         "payment bounced because of it and I now face a late fee. Fix this immediately.\n\nKwame", "critical", "billing"),
    # defect
    Mail("Lucy Grant", "Mug arrived with a chip", "Hi there, one of the four mugs in my set has a little chip on the rim. "
         "Not a big deal. Order 51177.\n\nThanks, Lucy", "low", "defect"),
    Mail("Omar Haddad", "Headphones stopped working", "My headphones (order 77120) stopped charging after two weeks. "
         "The left side is dead too.\n\nOmar", "medium", "defect"),
    Mail("Greta Novak", "Blender broken again", "The replacement blender you sent has broken in exactly the same way as "
         "the first one. The motor just stopped. I'm really disappointed.\n\nGreta", "high", "defect"),
    Mail("Ian Doyle", "Laptop dead after one day", "The laptop I bought for my business (order LP-55012) died after one "
         "day and I have lost a client presentation. This is unacceptable.\n\nIan Doyle", "critical", "defect"),
    # outage
    Mail("Sam Patel", "App slow this morning", "The app was very slow this morning for about half an hour. Fine now.",
         "low", "outage"),
    Mail("Rosa Martins", "Can't log in to the dashboard", "Your dashboard has been down since 9am and I can't see any of "
         "my reports. Still not working.\n\nRosa", "medium", "outage"),
    Mail("Chen Wei", "Shop offline all day", "Our online shop has been down all day because your platform failed. We "
         "lost a day of sales and nobody answered the phone.\n\nChen", "high", "outage"),
    Mail("Nadia Karim", "Payments failing for 6 hours", "Every payment on our site has failed for six hours because of "
         "your outage. We have lost thousands of pounds and customers are leaving.\n\nNadia", "critical", "outage"),
    # staff
    Mail("Paul Smith", "Abrupt on the phone", "The person I spoke to on the phone was a bit abrupt. Not rude exactly.",
         "low", "staff"),
    Mail("Hannah Cole", "Driver was rude", "Your driver was rude to my mother when she asked him to carry the parcel in. "
         "Not acceptable.\n\nHannah", "medium", "staff"),
    Mail("Lee Wong", "Shouted at in store", "A member of staff shouted at me in front of my children in your Leeds store "
         "and refused to give me his name. I was humiliated.\n\nLee", "high", "staff"),
    Mail("Fatima Ali", "Manager threatened me", "Your store manager threatened me and pushed my trolley away when I asked "
         "for a refund. I have never been treated like this.\n\nFatima", "critical", "staff"),
    # account
    Mail("George Hill", "Password reset email slow", "The password reset email took 20 minutes to arrive. Got in now.",
         "low", "account"),
    Mail("Ella Brown", "Locked out of my account", "I've been locked out of my account for two days and the reset link "
         "doesn't work.\n\nElla", "medium", "account"),
    Mail("Victor Hugo", "Account closed without warning", "You closed my account without warning and I can't get to my "
         "saved orders or my credit of £120.\n\nVictor", "high", "account"),
    Mail("Maya Singh", "Someone changed my account email", "Someone changed the email on my account and placed two orders "
         "with my saved card. I can't get back in and the orders are still going through.\n\nMaya", "critical", "account"),
    # privacy
    Mail("Olivia Park", "Newsletter after unsubscribing", "I unsubscribed last month and I'm still getting your newsletter. "
         "Please take me off the list.\n\nOlivia", "low", "privacy"),
    Mail("Daniel Roy", "Why do you have my phone number?", "I never gave you my phone number but your team called me "
         "yesterday. I'm not happy about that.\n\nDaniel", "medium", "privacy"),
    Mail("Irene Adler", "Invoice with another customer's details", "My invoice came with someone else's name and address "
         "on it. If I have theirs, who has mine?\n\nIrene", "high", "privacy"),
    Mail("Karl Berg", "My card details were shown to others", "Your order page showed my full card number and home "
         "address to another customer, who emailed me about it. This is a data breach.\n\nKarl", "critical", "privacy"),
    # other
    Mail("Amy Lowe", "Music too loud", "The music in your café was too loud to hold a conversation.", "low", "other"),
    Mail("Ravi Nair", "Voucher not accepted", "Your store wouldn't accept my gift voucher, even though it's still in date. "
         "I had to pay in full.\n\nRavi", "medium", "other"),
    Mail("Beth Jones", "Event cancelled with no notice", "You cancelled the workshop an hour before it started and we had "
         "travelled two hours to get there. No refund offered.\n\nBeth", "high", "other"),
    Mail("Noah Fisher", "Hotel booking lost", "You lost our hotel booking and my family of five was turned away at "
         "midnight in a foreign city with nowhere to sleep.\n\nNoah", "critical", "other"),
    # safety
    Mail("Jenny Moss", "Kettle sparked", "Water ran onto the plug this morning and it sparked. I don't feel safe using it. "
         "This is the replacement you sent after the first one leaked.\n\nJenny", "critical", "defect"),
    Mail("Alan Price", "Glass in my sandwich", "I found a piece of glass in the chicken sandwich I bought at your Bristol "
         "station shop today. I cut my lip.\n\nAlan", "critical", "defect"),
    Mail("Sofia Rossi", "Heater overheating", "The heater I bought last week started to smell of burning and the casing "
         "melted. My daughter was in the room.\n\nSofia", "critical", "defect"),
    # legal, regulators, press
    Mail("Helen Brooks", "Your customer portal exposed my order history",
         "Dear Sir or Madam,\n\nThis morning I logged in and saw another customer's name, address and orders. This is a "
         "data breach. I expect a full explanation within 48 hours; otherwise I will report it to the Information "
         "Commissioner's Office and instruct my solicitor.\n\nHelen Brooks", "critical", "privacy"),
    Mail("Richard Cole", "Letter before action: order 99102", "I have instructed my lawyer to begin legal action over the "
         "faulty boiler you installed (order 99102), which flooded my kitchen.\n\nRichard Cole", "critical", "defect"),
    Mail("Grace Kim", "Going to the press", "If you don't refund me by Friday I am going to the press. A journalist friend "
         "is already interested in how you treat customers.\n\nGrace", "high", "billing"),
    Mail("Peter Lang", "Complaint to the ombudsman", "I am taking my complaint about your repeated billing errors to the "
         "ombudsman. You have had eight weeks.\n\nPeter", "high", "billing"),
    # chasers and questions in an open case
    Mail("Chris Page", "Re: Broken chair", "Still no reply, and it's been three days. The chair is still broken and "
         "I'm still waiting.\n\nChris", "high", "defect",
         earlier=("The chair (order 66231) arrived with a cracked leg.",)),
    Mail("Dina Ross", "Re: Refund", "Is there any update? It's been a week and my refund still hasn't arrived.\n\nDina",
         "medium", "billing", earlier=("You charged me twice for order 44120.",)),
    Mail("Eve Turner", "Re: Order 30211 late", "Thanks for looking into it. Can I change the delivery address to my "
         "office instead?\n\nEve", "medium", "delivery", kind="replied"),
    Mail("Fred Lane", "Re: Locked out", "Got it, thanks. Will I need to set up two-factor again?\n\nFred", "medium",
         "account", kind="replied"),
    # not English
    Mail("André Lefèvre", "Colis abîmé", "Bonjour,\n\nLe colis est arrivé abîmé et la cafetière est cassée. C'est la "
         "deuxième fois que cela arrive et personne ne répond à mes messages.\n\nAndré", "high", "defect"),
    Mail("Claire Dubois", "Commande 77345 toujours pas livrée", "Bonjour, ma commande 77345 n'est toujours pas arrivée "
         "alors qu'elle devait être livrée lundi. Pouvez-vous me dire où elle se trouve ?\n\nClaire", "medium", "delivery"),
    Mail("Jürgen Weber", "Rechnung doppelt bezahlt", "Guten Tag, ich habe die Rechnung zweimal bezahlt und bis heute "
         "keine Erstattung bekommen. Bitte überweisen Sie das Geld zurück.\n\nJürgen Weber", "medium", "billing"),
]


def draft(mail: Mail):
    ctx = build_context(mail.subject, mail.body, mail.name, "", mail.earlier)
    stakes = assess("\n".join([mail.subject, mail.body, *mail.earlier]))
    language = detect(f"{mail.subject}\n{mail.body}")
    return ctx, stakes, language, compose(TEMPLATES, CONFIG, ctx, mail.severity, mail.category, stakes, language, mail.kind)


def approved(body: str, severity: str, language: str, at: datetime) -> tuple[str, datetime]:
    _, due, phrase = promise(CONFIG, severity, at, language)
    return fill_deadline(body, phrase), due


def in_order(body: str, steps: list[str]) -> bool:
    positions = [body.find(step) for step in steps]
    return -1 not in positions and positions == sorted(positions)


def test_the_matrix_covers_every_category_and_severity_and_the_hard_cases():
    cells = {(m.category, m.severity) for m in MAILS}
    assert len(MAILS) >= 40 and len(cells) == 32


@pytest.mark.parametrize("mail", MAILS, ids=[m.subject[:30] for m in MAILS])
def test_each_draft_is_one_a_support_lead_would_send(mail):
    ctx, stakes, language, composed = draft(mail)
    at = APPROVALS[MAILS.index(mail) % len(APPROVALS)]
    body, due = approved(composed.body, mail.severity, composed.language, at)
    assert DEADLINE not in body
    if DEADLINE in composed.body:  # the promise: after approval, inside business hours, in the team's zone
        business = BusinessHours.of(CONFIG)
        local = due.astimezone(business.zone)
        assert due > at and local.strftime("%a").lower()[:3] in CONFIG.followup.business_days
        assert CONFIG.followup.opening <= local.time() <= CONFIG.followup.closing
    else:  # a small case whose asks are done at once, or that is passed on, has nothing to promise
        assert composed.template == "replied.txt.j2" or (
            mail.severity == "low" and (ctx.asks.asks or mail.category in ("staff", "other"))), composed.body

    # Each reference once (the customer's quote may carry it; then it is not repeated).
    for ref in ctx.references:
        assert body.lower().count(ref.split()[-1].lower()) <= 1, (ref, body)
    # A remedy is offered once, and never the replacement that already failed.
    assert body.count("offer you") + body.count("vous proposer") <= 1
    if stakes.replacement_failed or "safety" in stakes:
        offers = [line for line in body.splitlines() if "offer you" in line or "proposer" in line]
        assert not any("replacement" in line or "remplacement" in line for line in offers), body

    if "legal" in stakes:
        assert composed.template == "legal.txt.j2" and composed.hold_role == "legal"
        assert admissions(body) == [], body
        assert "offer you" not in body and "proposer" not in body
        return
    if "safety" in stakes:
        first_paragraph = body.split("\n\n")[1]
        assert first_paragraph.startswith(("Before anything else", "Avant toute chose")), body
        assert any(word in first_paragraph for word in ("stop using", "don't eat", "don't use", "unplug")), body
    # Each question is left for the reviewer to answer, never quoted back and deferred.
    for question in ctx.questions:
        assert f"{{answer: {question}}}" in body or f"{{réponse : {question}}}" in body, body
    if mail.kind == "replied":
        assert composed.template == "replied.txt.j2"
        return
    short = mail.severity == "low" and not stakes.kinds  # a small thing: the same steps in two or three sentences
    if short:
        assert len(body.split()) < 100, body
    if composed.language == "fr":
        steps = (["Bonjour", "Merci de nous avoir prévenus", "excuses", "Répondez simplement"] if short else
                 ["Bonjour", "Merci de nous avoir écrit", "désolé", "je reviens vers vous", "répondez simplement",
                  "Merci de nous donner"])
        assert in_order(body, steps), body
        return
    assert in_order(body, ["Hi ", "sorry"]) and "reply" in body.rstrip().splitlines()[-1], body  # invited to reply
    if short:
        return
    assert body.count("\n\n") >= 3, body
    if mail.severity in ("high", "critical") and not stakes.kinds:
        assert "myself" in body or "personally" in body, body
    if ctx.restated:  # the problem said back in our words
        assert ctx.restated in body


def test_a_critical_safety_draft_stops_the_danger_and_offers_no_second_replacement():
    mail = next(m for m in MAILS if m.subject == "Kettle sparked")
    _, stakes, _, composed = draft(mail)
    assert stakes.kinds == ("safety",) and stakes.safety_step == "electrical" and stakes.replacement_failed
    assert "switch it off at the wall and unplug it" in composed.body and "sparked" in composed.body
    offer = next(line for line in composed.body.splitlines() if "offer you" in line)
    assert "replacement" not in offer and composed.body.count("full refund") == 1


def test_a_legal_threat_gets_a_neutral_holding_reply_held_for_legal():
    mail = next(m for m in MAILS if m.name == "Helen Brooks")
    _, stakes, _, composed = draft(mail)
    assert set(stakes.kinds) == {"legal", "privacy"} and composed.hold_role == "legal"
    assert "That's on us" not in composed.body and admissions(composed.body) == []
    assert CONFIG.drafts.privacy_contact in composed.body


def test_restating_uses_the_latest_message_and_never_a_bare_reference():
    sarah = next(m for m in MAILS if m.name == "Sarah Whitfield")
    ctx, _, _, composed = draft(sarah)
    assert "second time" in ctx.complaint_sentence and ctx.restated in composed.body
    ben = build_context("Mug arrived with a chip", "Hi there, small thing: one of the four mugs in my set has a little "
                        "chip on the rim. Not a big deal. Order 51177.\n\nThanks, Ben", "Ben")
    assert ben.complaint_sentence == "one of the four mugs in my set has a little chip on the rim."
    assert build_context("Order 51177", "Order 51177.", "Ben").complaint_sentence is None


def test_french_customers_get_french_and_others_a_notice():
    andre = next(m for m in MAILS if m.name == "André Lefèvre")
    _, _, language, composed = draft(andre)
    assert language == "fr" and composed.language == "fr"
    assert composed.body.startswith("Bonjour André,") and "remboursement intégral" in composed.body  # French remedy
    at = APPROVALS[0]
    body, _ = approved(composed.body, "high", "fr", at)
    assert "aujourd'hui avant 13 h" in body
    jurgen = next(m for m in MAILS if m.name == "Jürgen Weber")
    _, _, language, composed = draft(jurgen)
    assert language == "de" and composed.language == "en" and composed.body.startswith("Hi Jürgen,")


def test_french_replies_speak_for_the_team_and_never_guess_anyone_s_gender():
    # "désolé(e)" reads as a form: the team says "nous sommes désolés", and the customer is
    # never the subject of a gendered participle.
    for path in sorted((ROOT / "templates" / "replies" / "fr").glob("*.j2")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\w\((e|es|s)\)", text), path.name
