"""Build ``corpus.jsonl``: labelled support mail for training and evaluating Amends.

    python classifiers/data/build_corpus.py [--count 4200] [--seed 7]

Every fragment below was written for Amends. A message is composed from one *situation*
(what happened, in several phrasings, with slots for the industry's items and references) and
the parts that set its tone and severity, following RUBRIC.md: softeners for ``low``,
annoyance for ``medium``, repetition, money lost, threats to leave or anger for ``high``, and
legal, safety, data, regulator, vulnerable-customer or discrimination lines for ``critical``.
Styles vary the surface: full emails, one-line posts, reviews, typos, lower case, shouting and
non-native English. ``group`` is the situation, so an evaluation split by group shows how the
model does on situations it never saw. Seeded: the same arguments give the same file.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).parent

INDUSTRIES: dict[str, dict[str, list[str]]] = {
    "shop": {
        "brand": ["Northwind Home", "Brightleaf", "Oakline Furniture", "Pebble & Co"],
        "item": ["standing desk", "sofa", "coffee table", "bookshelf", "mattress", "kettle",
                 "set of mugs", "desk lamp", "winter coat", "pair of trainers", "blender", "rug"],
        "ref": ["order #{n5}", "order {n5}", "order number {n6}", "my order ({n5})"],
        "staff": ["the driver", "your delivery team", "the person on your chat", "your returns agent"],
        "service": ["your website", "the checkout", "your app", "the tracking page"],
    },
    "saas": {
        "brand": ["Ledgerly", "Tasklane", "CloudNest", "Formwise"],
        "item": ["Pro plan", "team workspace", "reporting dashboard", "API", "PDF export",
                 "mobile app", "calendar sync", "invoice module"],
        "ref": ["ticket {n5}", "workspace {w}", "account {w}", "case #{n6}"],
        "staff": ["your support agent", "the account manager", "your onboarding specialist", "the sales rep"],
        "service": ["the dashboard", "the API", "the app", "single sign-on", "the sync"],
    },
    "telecom": {
        "brand": ["Skyline Mobile", "FibreFirst", "Connectia", "Wavelink"],
        "item": ["broadband", "fibre connection", "router", "SIM card", "mobile contract",
                 "TV package", "landline"],
        "ref": ["account {n8}", "account number {n8}", "reference {REF}", "case {n6}"],
        "staff": ["your engineer", "the technician", "the call centre agent", "your shop staff"],
        "service": ["the internet", "my broadband", "mobile data", "the landline", "the TV service"],
    },
    "airline": {
        "brand": ["AeroNova", "BlueCrest Air", "Skyhop", "Meridian Airways"],
        "item": ["flight", "return flight", "connecting flight", "checked bag", "seat upgrade"],
        "ref": ["booking {REF}", "booking reference {REF}", "flight {FL}", "PNR {REF}"],
        "staff": ["the gate agent", "the cabin crew", "your check-in staff", "the agent on the phone"],
        "service": ["online check-in", "your app", "the booking site", "the rebooking tool"],
    },
    "bank": {
        "brand": ["Harbour Bank", "Civic Savings", "Keystone Credit", "Ampersand Bank"],
        "item": ["current account", "credit card", "savings account", "mortgage payment",
                 "debit card", "loan repayment", "standing order"],
        "ref": ["account ending {n4}", "card ending {n4}", "reference {REF}", "case {n6}"],
        "staff": ["the branch manager", "your advisor", "the fraud team", "the person I spoke to"],
        "service": ["online banking", "the banking app", "card payments", "transfers"],
    },
    "utility": {
        "brand": ["Greenway Energy", "Riverside Water", "Beacon Power", "Evergrid"],
        "item": ["gas supply", "electricity", "smart meter", "water supply", "boiler service",
                 "energy bill", "direct debit"],
        "ref": ["account {n8}", "customer number {n8}", "meter {n6}", "reference {REF}"],
        "staff": ["the meter reader", "your engineer", "the call centre", "the contractor"],
        "service": ["the heating", "the hot water", "the power", "the water", "the online account"],
    },
    "food": {
        "brand": ["Forkful", "QuickBite", "Dinerly", "GreenBowl"],
        "item": ["order", "pizza", "curry", "sushi order", "grocery delivery", "meal kit", "salad"],
        "ref": ["order #{n5}", "order {n6}", "order from {day}"],
        "staff": ["the rider", "the courier", "the restaurant", "your chat support"],
        "service": ["the app", "order tracking", "the payment screen", "promo codes"],
    },
    "clinic": {
        "brand": ["Harbour Clinic", "Parkside Dental", "Wellpoint Health", "Cedar Physio"],
        "item": ["appointment", "prescription", "test results", "treatment", "check-up",
                 "referral", "dental crown"],
        "ref": ["patient number {n6}", "appointment on {day}", "reference {REF}"],
        "staff": ["the receptionist", "the nurse", "the dentist", "the doctor", "your booking line"],
        "service": ["the booking system", "the patient portal", "SMS reminders", "the phone line"],
    },
    "landlord": {
        "brand": ["Cityspace Lettings", "Harbourview Homes", "Keyhouse Property", "Brick & Beam"],
        "item": ["flat", "boiler", "heating", "deposit", "repair request", "rent payment",
                 "front door lock", "washing machine"],
        "ref": ["flat {flat}", "tenancy {REF}", "unit {flat}", "repair job {n5}"],
        "staff": ["the property manager", "your contractor", "the letting agent", "the caretaker"],
        "service": ["the tenant portal", "the repairs line", "the heating", "the lift"],
    },
    "hotel": {
        "brand": ["Lakeside Inn", "The Grand Marlow", "Stayrest Hotels", "Cove Suites"],
        "item": ["room", "booking", "suite", "breakfast", "airport transfer", "spa treatment"],
        "ref": ["reservation {REF}", "booking {n6}", "confirmation {REF}"],
        "staff": ["the receptionist", "the night manager", "housekeeping", "the concierge"],
        "service": ["the Wi-Fi", "the booking site", "the key cards", "the air conditioning"],
    },
}

ALL = list(INDUSTRIES)

# (id, industries, base severity, subjects, phrasings)
COMPLAINTS: dict[str, list[tuple]] = {
    "delivery": [
        ("del-late", ["shop", "food"], "medium", ["{ref} is late", "Where is my {item}?", "Late delivery"],
         ["My {item} ({ref}) was due {days} ago and still hasn't arrived.",
          "I was promised delivery of my {item} by {day}. It's now {days} later and nothing.",
          "{ref} should have been here {days} ago. Still no sign of it."]),
        ("del-not-received", ["shop", "food"], "medium", ["Never received {ref}", "Parcel marked delivered but not here"],
         ["Tracking says {ref} was delivered but there is nothing at my door.",
          "The app says my {item} was delivered at 2pm. I was home all day and nobody came.",
          "Apparently my parcel was left in a 'safe place'. There is no parcel anywhere."]),
        ("del-wrong-address", ["shop", "food"], "medium", ["Delivered to the wrong address", "{ref} went to the wrong house"],
         ["My {item} was delivered to a house on another street. The photo proof shows someone else's door.",
          "You sent {ref} to my old address even though I updated it weeks ago."]),
        ("del-missed-slot", ["shop", "telecom", "utility"], "medium", ["Missed delivery slot", "Nobody turned up"],
         ["I took the day off for the 8-12 delivery slot and nobody turned up.",
          "I waited in all day for {ref} and the slot was simply missed, no call, no message."]),
        ("del-damaged-box", ["shop"], "low", ["Box arrived damaged", "Packaging issue"],
         ["The box for {ref} arrived a bit crushed. The {item} seems fine though.",
          "Outer packaging was torn when it arrived, just so you know."]),
        ("del-partial", ["shop", "food"], "medium", ["Items missing from {ref}", "Half my order is missing"],
         ["Only half of {ref} arrived. The {item} is missing.",
          "My order came without the {item}, but I was charged for it."]),
        ("del-cold-food", ["food"], "low", ["Food arrived cold", "Cold delivery"],
         ["My {item} arrived lukewarm, took over an hour.",
          "The food was cold by the time it got here."]),
        ("del-courier-rude", ["shop", "food"], "medium", ["Courier left parcel in the rain"],
         ["The courier threw my {item} over the fence and it sat in the rain.",
          "Your driver left {ref} on the pavement in the rain."]),
        ("del-tracking-stuck", ["shop"], "low", ["Tracking not updating"],
         ["The tracking for {ref} hasn't updated for a few days. Is it still coming?",
          "Tracking has been stuck on 'in transit' for {days}."]),
        ("del-lost-luggage", ["airline"], "medium", ["Lost luggage", "My bag never arrived"],
         ["My checked bag didn't arrive on {ref} and nobody can tell me where it is.",
          "It has been {days} and my suitcase from {ref} is still missing."]),
        ("del-moved-date", ["shop"], "medium", ["Delivery date changed again"],
         ["You moved the delivery date for {ref} again without asking me.",
          "Third new delivery date for my {item}, each one emailed after the last one passed."]),
    ],
    "billing": [
        ("bil-double", ALL, "medium", ["Charged twice", "Double charge on {ref}", "Duplicate payment"],
         ["I've been charged twice for {ref}: {amount} on {day} and again the next day.",
          "Two identical payments of {amount} left my account for the same {item}.",
          "You took {amount} twice this month."]),
        ("bil-refund-missing", ["shop", "airline", "food", "hotel", "saas"], "medium", ["Refund not received", "Where is my refund?"],
         ["I returned the {item} {days} ago and the refund of {amount} still hasn't come through.",
          "You confirmed a refund of {amount} for {ref} {days} ago. Nothing has arrived.",
          "My flight was cancelled and I was promised a refund. It's been {days}."]),
        ("bil-wrong-amount", ALL, "medium", ["Wrong amount on my bill", "Incorrect invoice"],
         ["My bill shows {amount} but my plan is much cheaper than that.",
          "The invoice for {ref} is wrong: I was quoted one price and charged {amount}.",
          "You've billed me for a service I never ordered."]),
        ("bil-cancelled-still-charged", ["saas", "telecom", "utility", "bank"], "medium", ["Still charged after cancelling"],
         ["I cancelled my {item} in {month} and you are still taking {amount} every month.",
          "Cancelled months ago. Still being charged. Why?"]),
        ("bil-hidden-fee", ["bank", "telecom", "airline", "hotel"], "medium", ["Unexpected fee", "Hidden charges"],
         ["There is a {amount} fee on {ref} that nobody ever mentioned.",
          "You added a 'service charge' of {amount} that was never in the price."]),
        ("bil-price-rise", ["telecom", "utility", "saas"], "low", ["Price increase", "My bill went up"],
         ["My bill went up by {amount} without any notice that I can find.",
          "I noticed the monthly price increased. I don't remember being told."]),
        ("bil-direct-debit", ["utility", "bank", "landlord"], "medium", ["Direct debit taken early", "Payment taken on wrong date"],
         ["You took the direct debit a week early and I went overdrawn.",
          "The payment for {ref} came out on the wrong date, before payday."]),
        ("bil-deposit", ["landlord", "hotel"], "medium", ["Deposit not returned"],
         ["I moved out of {ref} {days} ago and my deposit of {amount} still hasn't been returned.",
          "You've kept {amount} of my deposit for 'cleaning' when the place was spotless."]),
        ("bil-invoice-address", ["saas", "shop"], "low", ["Invoice details wrong"],
         ["The invoice for {ref} shows our old company address. Could it be corrected?",
          "Our VAT number is missing from the last invoice."]),
        ("bil-promo-not-applied", ["shop", "food", "saas"], "low", ["Discount code didn't work"],
         ["My discount code wasn't applied to {ref}, so I paid {amount} more than I should have.",
          "The promo wasn't taken off at checkout."]),
    ],
    "defect": [
        ("def-broken-arrival", ["shop"], "medium", ["Arrived broken", "Damaged {item}"],
         ["The {item} arrived broken: one leg snapped off.",
          "My {item} was cracked straight out of the box.",
          "Opened the box and the {item} was smashed."]),
        ("def-stopped-working", ["shop", "telecom"], "medium", ["{item} stopped working", "Faulty {item}"],
         ["My {item} stopped working after {days}.",
          "The {item} died after two weeks of normal use.",
          "It just won't turn on any more."]),
        ("def-poor-quality", ["shop"], "low", ["Disappointed with quality"],
         ["The {item} feels much cheaper than it looked online.",
          "The stitching on my {item} is already coming loose."]),
        ("def-wrong-item", ["shop", "food"], "medium", ["Wrong item sent", "Not what I ordered"],
         ["I ordered a {item} and received something completely different.",
          "Wrong size and wrong colour in {ref}."]),
        ("def-chip", ["shop"], "low", ["Small chip", "Minor damage"],
         ["One of the items in my {item} has a small chip on the rim. Not a big deal.",
          "There is a small scratch on the {item}."]),
        ("def-food-quality", ["food"], "medium", ["Food was inedible", "Bad food"],
         ["The {item} was undercooked and I couldn't eat it.",
          "The salad leaves were slimy and the chicken smelled off.",
          "There was a hair in my {item}."]),
        ("def-repair-failed", ["landlord", "telecom", "utility"], "medium", ["Repair didn't fix it"],
         ["Your contractor came to fix the {item} and it broke again the same evening.",
          "The repair on {ref} didn't fix anything."]),
        ("def-replacement-faulty", ["shop"], "high", ["Replacement is faulty too"],
         ["The replacement {item} has exactly the same fault as the first one.",
          "Second {item}, same problem. Both faulty."]),
        ("def-software-bug", ["saas"], "medium", ["Bug in {item}", "Export broken"],
         ["Since the last update the {item} produces blank files.",
          "The {item} rounds every total to the wrong number."]),
        ("def-treatment", ["clinic"], "medium", ["Problem after my treatment"],
         ["My {item} came loose a week after the treatment.",
          "The filling fell out {days} after it was done."]),
        ("def-room", ["hotel"], "medium", ["Room not as described"],
         ["The room had mould on the bathroom ceiling and the shower didn't drain.",
          "Our {item} was nothing like the photos: stained carpet and a broken window latch."]),
    ],
    "outage": [
        ("out-internet", ["telecom"], "medium", ["No internet", "Broadband down again", "Outage"],
         ["My {item} has been down since {day}.",
          "No internet for {days} now and the status page says everything is fine.",
          "The connection drops every hour."]),
        ("out-app-crash", ["saas", "bank", "food", "shop", "airline"], "medium", ["App keeps crashing", "{service} not working"],
         ["{service} crashes every time I open it.",
          "I can't get past the login screen in {service}, it just spins.",
          "{service} has been throwing errors all morning."]),
        ("out-site-down", ["saas", "shop", "bank"], "medium", ["Website down", "Can't access the dashboard"],
         ["{service} returns a 502 error for our whole team.",
          "We haven't been able to use {service} since the maintenance window.",
          "Your site has been down for hours."]),
        ("out-power", ["utility"], "medium", ["Power cut", "No electricity", "No hot water"],
         ["We've had no {item} since {day} and nobody has given us a time.",
          "{service} has been off for {days}.",
          "Another outage this week, no warning."]),
        ("out-heating", ["landlord", "utility"], "medium", ["Heating broken", "No heating"],
         ["The heating in {ref} has been broken for {days}.",
          "No heating and no hot water since {day}."]),
        ("out-flight-cancel", ["airline"], "medium", ["Flight cancelled", "Cancelled without notice"],
         ["{ref} was cancelled and we only found out at the airport.",
          "Our {item} was cancelled two hours before departure with no explanation."]),
        ("out-flight-delay", ["airline"], "medium", ["Delayed {days}", "Huge delay"],
         ["{ref} was delayed by six hours and we missed our connection.",
          "We sat on the plane for three hours with no information."]),
        ("out-payments", ["bank"], "medium", ["Card declined", "Payments failing"],
         ["My card was declined everywhere today even though there is money in the account.",
          "Transfers have been failing since {day}."]),
        ("out-sync", ["saas"], "low", ["Sync is slow"],
         ["The {item} has been a bit slow to sync this week.",
          "Sometimes the {item} takes a few minutes to update."]),
        ("out-wifi", ["hotel"], "low", ["Wi-Fi weak"],
         ["The Wi-Fi in our room kept dropping, which was a bit annoying.",
          "Wi-Fi barely worked during our stay."]),
        ("out-lift", ["landlord"], "medium", ["Lift broken"],
         ["The lift in our building has been out of order for {days}.",
          "Lift broken again. Nobody has come to look."]),
        ("out-reminders", ["clinic"], "medium", ["Reminders not sent"],
         ["Your {service} stopped working and we missed {item}s because of it.",
          "Patients haven't had any reminders since {day}."]),
    ],
    "staff": [
        ("sta-rude", ALL, "medium", ["Rude staff", "Complaint about {staff}", "Appalling attitude"],
         ["{staff} was incredibly rude to me.",
          "{staff} rolled their eyes and told me it wasn't their problem.",
          "I was spoken to like an idiot by {staff}."]),
        ("sta-no-show", ["telecom", "utility", "landlord", "clinic"], "medium", ["Engineer didn't show up", "Nobody came"],
         ["{staff} was booked for {day} and never turned up.",
          "I waited from 8 until 6 and {staff} didn't come or call."]),
        ("sta-hold", ALL, "medium", ["On hold for hours", "Impossible to reach anyone"],
         ["I was on hold for over an hour and then cut off.",
          "Nobody answers the phone and nobody replies to emails.",
          "I've emailed {days} in a row and had no reply."]),
        ("sta-broken-promise", ALL, "medium", ["You promised a call back"],
         ["{staff} promised to call me back within 24 hours. That was {days} ago.",
          "I was told it would be sorted by {day}. It wasn't, and nobody told me."]),
        ("sta-unhelpful", ALL, "low", ["Not very helpful"],
         ["The person I chatted with didn't really understand my question.",
          "{staff} was polite but couldn't actually help."]),
        ("sta-passed-around", ALL, "medium", ["Passed from department to department"],
         ["I've been transferred between four departments and had to explain everything each time.",
          "Every agent tells me something different."]),
        ("sta-mess", ["telecom", "utility", "landlord"], "medium", ["Mess left behind"],
         ["{staff} left mud all over the carpet and didn't clean up.",
          "The contractor left rubbish and tools in our hallway."]),
        ("sta-closed-ticket", ["saas", "telecom"], "medium", ["Ticket closed without fix"],
         ["You closed {ref} but nothing has been fixed.",
          "My case was marked resolved without anyone contacting me."]),
        ("sta-pushy", ["telecom", "bank", "saas"], "low", ["Pushy sales call"],
         ["{staff} kept pushing an upgrade when I only called to ask a question.",
          "The sales rep was quite pushy."]),
    ],
    "account": [
        ("acc-locked", ["saas", "bank", "shop", "telecom", "utility"], "medium", ["Locked out of my account", "Can't log in"],
         ["I've been locked out of my account since {day}.",
          "The password reset email never arrives so I can't get in.",
          "My login stopped working and support keeps sending me in circles."]),
        ("acc-closed", ["bank", "saas", "shop"], "high", ["Account closed without warning"],
         ["You closed my account without any warning and I can't access my money.",
          "My account was suspended and nobody will tell me why."]),
        ("acc-2fa", ["bank", "saas"], "medium", ["Verification codes not arriving"],
         ["The two-factor codes never arrive by SMS.",
          "I can't verify my identity because the code expires before it arrives."]),
        ("acc-details-wrong", ALL, "low", ["Can't update my details"],
         ["I've tried to update my address three times and it keeps reverting.",
          "The profile page won't save my new phone number."]),
        ("acc-merged", ["shop", "saas"], "medium", ["My account was merged with someone else's"],
         ["My order history disappeared after you 'migrated' my account.",
          "All my saved data vanished after the upgrade."]),
        ("acc-logout", ["saas", "bank", "food"], "low", ["Keeps logging me out"],
         ["The app logs me out every few minutes.",
          "I have to sign in again every time I switch screens."]),
    ],
    "privacy": [
        ("pri-exposed", ["shop", "saas", "bank", "clinic", "telecom"], "critical", ["I can see someone else's data", "Data exposed"],
         ["When I logged in I could see another customer's name, address and orders.",
          "Your portal showed me someone else's {item} details.",
          "My account page is showing a stranger's bank details."]),
        ("pri-emailed-stranger", ALL, "critical", ["You sent my details to a stranger"],
         ["You emailed my personal details to a complete stranger.",
          "Someone I don't know received a letter with my account number on it."]),
        ("pri-marketing", ALL, "medium", ["Stop emailing me", "Unsubscribed but still getting emails"],
         ["I unsubscribed {days} ago and still get marketing emails every day.",
          "I never agreed to marketing and you keep texting me offers."]),
        ("pri-sold-data", ALL, "critical", ["You shared my data"],
         ["Since signing up with you I get calls from companies who know my name and what I bought.",
          "You shared my details with a third party without asking me."]),
        ("pri-hacked", ["bank", "saas", "shop", "food"], "critical", ["Account hacked", "Fraud on my account"],
         ["Someone got into my account and placed orders with my card.",
          "There are logins to my account from another country and your team did nothing."]),
        ("pri-cc-list", ["saas", "clinic", "landlord"], "critical", ["Everyone's email addresses visible"],
         ["Your email went out with every customer's address in the CC field.",
          "You put all tenants' email addresses in one visible list."]),
        ("pri-deletion", ALL, "medium", ["Delete my data", "Data deletion ignored"],
         ["I asked you to delete my data {days} ago and got no answer.",
          "My request to erase my account was ignored."]),
    ],
    "other": [
        ("oth-noise", ["hotel", "landlord"], "low", ["Noise", "Very noisy"],
         ["The room next to ours had a party until 3am and reception did nothing.",
          "Building work starts at 7am every day, including weekends."]),
        ("oth-policy", ["shop", "airline", "bank"], "medium", ["Unfair policy"],
         ["Your returns policy says 30 days but you refused my return on day 12.",
          "You changed the baggage rules after I booked."]),
        ("oth-cleanliness", ["hotel", "clinic", "food"], "medium", ["Dirty", "Cleanliness"],
         ["The waiting room was filthy and the toilets had no soap.",
          "Our room hadn't been cleaned: used towels and crumbs on the bed."]),
        ("oth-parking", ["hotel", "clinic", "landlord"], "low", ["Parking"],
         ["Nobody told us parking costs extra.",
          "The car park was full and there was nowhere else to go."]),
        ("oth-accessibility", ["shop", "clinic", "hotel", "airline"], "medium", ["Accessibility"],
         ["There was no step-free access even though the website says there is.",
          "The accessible room we booked wasn't available when we arrived."]),
        ("oth-queue", ["clinic", "airline", "shop"], "low", ["Long wait"],
         ["We waited 50 minutes past our appointment time without anyone telling us why.",
          "The queue at the desk was over an hour."]),
    ],
}

# More situations, so that a held-out group still leaves several others of its category.
MORE_COMPLAINTS: dict[str, list[tuple]] = {
    "delivery": [
        ("del-signature", ["shop"], "medium", ["Parcel signed for by someone else"],
         ["Someone signed for {ref} with a name I've never heard of.",
          "The delivery was signed for by 'J' and it isn't anyone in this house."]),
        ("del-held-depot", ["shop"], "medium", ["Stuck at the depot"],
         ["My {item} has been sitting at your depot for {days} and nobody will release it.",
          "The courier says {ref} is 'held at depot' and no one answers the depot phone."]),
        ("del-customs", ["shop"], "medium", ["Unexpected customs charge"],
         ["The courier wanted {amount} in import fees before handing over my {item}. Your site said all duties were included.",
          "I had to pay customs on {ref} even though checkout promised no extra fees."]),
        ("del-groceries-sub", ["food"], "low", ["Substitutions"],
         ["Half my grocery order was substituted with things I'd never buy.",
          "You swapped my oat milk for full-fat milk again, which I can't drink."]),
        ("del-food-spilled", ["food"], "medium", ["Order spilled everywhere"],
         ["The curry leaked all over the bag and the rice was soaked.",
          "Everything arrived upside down and spilled."]),
        ("del-hotel-transfer", ["hotel", "airline"], "medium", ["Transfer never came"],
         ["The airport transfer we paid for never came and we waited an hour before getting a taxi.",
          "Nobody was at arrivals to pick us up as booked."]),
    ],
    "billing": [
        ("bil-overdraft", ["bank"], "medium", ["Unfair overdraft charges"],
         ["You charged me {amount} in overdraft fees because a payment you delayed went out late.",
          "Three overdraft fees in one week, all caused by your own processing delay."]),
        ("bil-estimated", ["utility"], "medium", ["Estimated bill way too high"],
         ["My bill is based on an estimate that is three times my real usage.",
          "You keep estimating my meter reading even though I submit readings every month."]),
        ("bil-trial", ["saas"], "medium", ["Charged after the free trial"],
         ["I cancelled during the free trial and was still charged {amount}.",
          "The 'free' trial turned into an annual charge of {amount} without any reminder."]),
        ("bil-tip", ["food"], "low", ["Tip added without asking"],
         ["A tip was added to {ref} that I didn't choose.",
          "The service charge was added automatically, which I didn't expect."]),
        ("bil-rent", ["landlord"], "medium", ["Rent increase without notice"],
         ["You've increased the rent for {ref} by {amount} a month without the notice the contract requires.",
          "A rent rise appeared on my statement with no letter at all."]),
        ("bil-roaming", ["telecom"], "medium", ["Roaming charges"],
         ["I was charged {amount} in roaming even though my plan includes EU roaming.",
          "My bill has data charges from a trip where I had roaming turned off."]),
        ("bil-currency", ["bank", "shop"], "low", ["Currency conversion fee"],
         ["I was charged a conversion fee on a payment that was in pounds.",
          "The exchange rate you used is a lot worse than the one you advertise."]),
    ],
    "defect": [
        ("def-missing-parts", ["shop"], "medium", ["Missing parts"],
         ["The {item} came without the screws and I can't assemble it.",
          "Two panels are missing from the flat-pack {item}."]),
        ("def-smell", ["shop"], "low", ["Strange smell"],
         ["The {item} has a strong chemical smell that hasn't gone away after a week.",
          "There's a funny smell from the {item} when it's switched on."]),
        ("def-battery", ["shop", "telecom"], "medium", ["Battery problem"],
         ["The battery on my {item} lasts about an hour, not the twelve advertised.",
          "The battery swells and gets hot when it's charging."]),
        ("def-colour", ["shop"], "low", ["Colour not as pictured"],
         ["The {item} is a different colour from the photos, more grey than green.",
          "The colour is quite far off from the website."]),
        ("def-size", ["shop"], "low", ["Sizing"],
         ["The {item} is marked as a medium but fits like an extra small.",
          "The measurements on the label don't match the size guide."]),
        ("def-expired", ["food", "shop"], "medium", ["Out of date"],
         ["Two items in my order were past their use-by date.",
          "The yoghurt in my delivery expired last week."]),
        ("def-hotel-broken", ["hotel", "landlord"], "medium", ["Things broken in the room"],
         ["The shower had no hot water and the toilet wouldn't flush.",
          "The washing machine in {ref} floods the kitchen every time we use it."]),
        ("def-glasses", ["clinic"], "medium", ["Wrong prescription"],
         ["My new glasses were made with the wrong prescription and give me headaches.",
          "The pharmacy gave me the wrong dose on my prescription label."]),
    ],
    "outage": [
        ("out-email", ["saas", "telecom"], "medium", ["Email not working"],
         ["Our email has been bouncing since {day} and we're losing customer messages.",
          "Nobody in our office can send email since your change on {day}."]),
        ("out-tv", ["telecom"], "low", ["TV keeps freezing"],
         ["The TV box freezes a couple of times every evening.",
          "Some channels have been pixelated all week."]),
        ("out-water", ["utility", "landlord"], "medium", ["No water"],
         ["We've had no water since {day} and no updates.",
          "The water pressure has been almost nothing for {days}."]),
        ("out-api", ["saas"], "medium", ["API errors"],
         ["Your API has been returning 500 errors for an hour and our checkout is down.",
          "Webhooks stopped arriving on {day}, so none of our orders synced."]),
        ("out-atm", ["bank"], "medium", ["Cash machine kept my card"],
         ["Your cash machine swallowed my card and didn't give me the money.",
          "The ATM charged my account but no cash came out."]),
        ("out-booking-site", ["airline", "hotel", "clinic"], "low", ["Booking site slow"],
         ["The booking site was painfully slow and I had to try four times.",
          "Your online booking keeps timing out at the payment step."]),
        ("out-signal", ["telecom"], "medium", ["No mobile signal"],
         ["I've had no mobile signal at home since the mast work on {day}.",
          "My phone keeps saying 'SOS only' everywhere in town."]),
    ],
    "staff": [
        ("sta-ignored-shop", ["shop", "hotel", "bank"], "medium", ["Ignored at the desk"],
         ["I stood at the desk for twenty minutes while two staff chatted and ignored me.",
          "Nobody acknowledged us at reception for ages."]),
        ("sta-lied", ALL, "medium", ["I was misled"],
         ["{staff} told me there would be no charge. There was.",
          "I was promised a full refund on the phone and now you say that was never agreed."]),
        ("sta-hung-up", ALL, "medium", ["Hung up on"],
         ["{staff} hung up on me halfway through my explanation.",
          "The call was ended on me twice."]),
        ("sta-doctor", ["clinic"], "medium", ["Dismissive doctor"],
         ["The doctor barely looked at me and said it was 'just stress'.",
          "I felt rushed and not listened to during the appointment."]),
        ("sta-unprofessional", ALL, "low", ["Unprofessional"],
         ["{staff} was on their phone the whole time, which didn't look great.",
          "A bit unprofessional: {staff} was eating while serving me."]),
        ("sta-blame", ALL, "medium", ["Blamed for your mistake"],
         ["{staff} insisted it was my fault even though your own records show otherwise.",
          "Your agent kept blaming me for a problem you created."]),
        ("sta-landlord-entry", ["landlord"], "medium", ["Entered without notice"],
         ["{staff} let themselves into my flat without any notice.",
          "Someone from your office entered {ref} while I was out, without telling me."]),
    ],
    "account": [
        ("acc-name-change", ["bank", "utility", "telecom"], "medium", ["Can't change my name"],
         ["I got married {days} ago and still can't get my name changed on the account.",
          "I've sent the documents three times and my name is still wrong."]),
        ("acc-deleted", ["saas", "shop"], "high", ["My account was deleted"],
         ["My account was deleted along with two years of saved work.",
          "You deleted my account by mistake and my order history is gone."]),
        ("acc-email-change", ["saas", "shop", "food"], "low", ["Email change not working"],
         ["I can't change the email on my account, it says 'error' every time.",
          "The confirmation link for my new email address doesn't work."]),
        ("acc-joint", ["bank"], "medium", ["Joint account access"],
         ["My husband can't access our joint account since the app update.",
          "The second holder on our account has been locked out for {days}."]),
        ("acc-loyalty", ["shop", "airline", "hotel", "food"], "low", ["Loyalty points missing"],
         ["My loyalty points from the last three orders are missing.",
          "The points from my last stay never showed up on my account."]),
        ("acc-verification-loop", ["bank", "saas", "telecom"], "medium", ["Stuck in verification"],
         ["Every time I upload my ID the app says it failed, and there's no one to ask.",
          "I've been stuck in identity verification for {days}."]),
        ("acc-sso", ["saas"], "medium", ["Single sign-on broken"],
         ["Single sign-on has stopped working for our whole company.",
          "Nobody on our team can log in through Google since {day}."]),
    ],
    "privacy": [
        ("pri-recording", ["clinic", "bank", "telecom"], "critical", ["Discussed my details in public"],
         ["The receptionist read out my diagnosis in a full waiting room.",
          "{staff} discussed my account details loudly in front of other customers."]),
        ("pri-wrong-letter", ["bank", "utility", "clinic"], "critical", ["I received someone else's letter"],
         ["I received a letter with someone else's medical results in it.",
          "Your envelope contained another customer's statement."]),
        ("pri-cookies", ["shop", "saas"], "low", ["Tracking and cookies"],
         ["Your website keeps tracking me even after I rejected cookies.",
          "The cookie banner has no way to say no."]),
        ("pri-cold-calls", ["telecom", "utility", "bank"], "medium", ["Endless sales calls"],
         ["I've asked three times to be removed from your call list and you still ring daily.",
          "Your sales team keeps calling me at work."]),
        ("pri-camera", ["landlord", "hotel"], "critical", ["Camera in the flat"],
         ["There is a camera in the hallway of {ref} pointing at my door and nobody told me.",
          "We found a camera in the room that wasn't mentioned anywhere."]),
    ],
    "other": [
        ("oth-pets", ["hotel", "landlord"], "low", ["Pet policy"],
         ["We were told pets were fine and then charged a cleaning fee for our dog.",
          "The pet policy on your site is different from what we were told at check-in."]),
        ("oth-smoking", ["hotel", "landlord"], "low", ["Smoke smell"],
         ["Our non-smoking room smelled strongly of smoke.",
          "Smoke from the flat below comes into ours every night."]),
        ("oth-website-info", ["shop", "clinic", "airline"], "low", ["Wrong information online"],
         ["Your website says you open at 9 but the doors were locked until 10.",
          "The opening times on your site are wrong."]),
        ("oth-environment", ["shop", "food"], "low", ["Too much packaging"],
         ["A tiny item came in a huge box full of plastic.",
          "So much plastic packaging for one small order."]),
        ("oth-music", ["shop", "hotel", "food"], "low", ["Loud music"],
         ["The music in your store is far too loud.",
          "We couldn't hear each other in the restaurant over the music."]),
        ("oth-terms", ["saas", "telecom", "bank"], "medium", ["Terms changed"],
         ["You changed the contract terms and buried it in a long email.",
          "The new terms remove features I paid for upfront."]),
        ("oth-neighbours", ["landlord"], "medium", ["Problem neighbours"],
         ["I've reported the neighbours' rubbish in the corridor five times.",
          "The shared hallway is always blocked with bikes and nobody enforces the rules."]),
        ("oth-charity", ["shop", "food"], "low", ["Donation at checkout"],
         ["The charity donation box at checkout is ticked by default.",
          "I didn't want to round up for charity but it was pre-selected."]),
    ],
}
for _category, _extra in MORE_COMPLAINTS.items():
    COMPLAINTS[_category].extend(_extra)

NON_COMPLAINTS: list[tuple] = [
    # (id, kind, industries, subjects, phrasings)
    ("q-address", "question", ["shop", "food"], ["Change delivery address?", "Quick question about {ref}"],
     ["Is it possible to change the delivery address on {ref}? I'm moving next week.",
      "Can I still change where {ref} gets delivered? No worries if it's too late."]),
    ("q-reset", "question", ["saas", "bank", "shop"], ["Password reset", "How do I reset my password?"],
     ["How do I reset my password? I can't remember the old one.",
      "I forgot my password, what's the easiest way to get back in?"]),
    ("q-declined", "question", ["bank", "shop"], ["Updating my card"],
     ["My card was declined at the till because it expired. How do I add the new one?",
      "My old card expired, where do I update the payment details?"]),
    ("q-damaged-policy", "question", ["shop"], ["Question about returns"],
     ["What happens if something arrives damaged? Just checking before I order a {item}.",
      "Is there a problem returning an item if I've opened the box?"]),
    ("q-invoice-copy", "question", ["saas", "telecom", "utility"], ["Copy of invoice"],
     ["Could you send me a copy of the invoice for {ref}? Our accountant needs it.",
      "Where can I download last month's invoice?"]),
    ("q-opening", "question", ["clinic", "shop", "hotel"], ["Opening hours"],
     ["What are your opening hours over the holidays?",
      "Are you open on Sunday? Nothing wrong, just planning."]),
    ("q-upgrade", "question", ["saas", "telecom"], ["Upgrading my plan"],
     ["How much would it cost to upgrade to the {item}?",
      "Can we add two more users to our {item} mid-month?"]),
    ("q-baggage", "question", ["airline"], ["Baggage allowance"],
     ["What is the baggage allowance on {ref}? Can I bring a guitar?",
      "Do I need to pay extra for a second bag?"]),
    ("q-solicitor", "question", ["landlord", "bank"], ["Documents request"],
     ["Could you send a copy of the tenancy agreement to my solicitor? She's handling the purchase.",
      "My lawyer asked for a statement for the mortgage application, can you help?"]),
    ("q-privacy-policy", "question", ALL, ["Data protection question"],
     ["What personal data do you keep about customers, and for how long?",
      "Where can I read your privacy policy? Asking for our compliance checklist."]),
    ("q-allergen", "question", ["food"], ["Allergens"],
     ["Does the {item} contain nuts? My son has an allergy.",
      "Is the curry gluten free?"]),
    ("q-outage-planned", "question", ["telecom", "utility"], ["Planned maintenance?"],
     ["Is there any planned maintenance this weekend? We're working from home.",
      "Will the power be off during the upgrade work next week?"]),
    ("praise-delivery", "praise", ["shop", "food"], ["Thank you!", "Great service"],
     ["Just wanted to say the {item} arrived a day early and it's perfect.",
      "Brilliant service, the driver even carried the {item} upstairs.",
      "Delivery was fast and everything was perfect. No problem at all."]),
    ("praise-staff", "praise", ALL, ["Thank you to {staff}", "Compliments"],
     ["{staff} was fantastic today, please pass on my thanks.",
      "I want to say how helpful your team was. Honestly the best support I've had."]),
    ("praise-product", "praise", ["saas", "shop"], ["Love it"],
     ["We've been using the {item} for a month and it has saved us hours.",
      "The new {item} is great, the team loves it."]),
    ("resolved-thanks", "resolved", ALL, ["Re: {ref}", "Sorted, thanks"],
     ["No problem at all, it arrived this morning. Thanks for sorting it out!",
      "That worked, thank you. You can close the ticket.",
      "All fixed now, appreciate the quick help."]),
    ("cancel-moving", "cancellation", ["telecom", "utility", "saas", "landlord"], ["Cancel my {item}", "Cancellation"],
     ["Please cancel my {item} from the end of next month, we're moving abroad.",
      "We're closing the business, so please cancel our {item}. Thanks for everything.",
      "I'd like to end my contract when it runs out, no complaints, just don't need it."]),
    ("order-request", "order", ["shop", "food", "hotel"], ["New order", "Booking request"],
     ["I'd like to order two more of the {item}, same as last time.",
      "Can I book a room for three nights from the 14th?",
      "Please add a second {item} to my next delivery."]),
    ("booking-change", "order", ["airline", "clinic", "hotel"], ["Change my booking"],
     ["Could I move {ref} to the following week?",
      "I need to reschedule my {item} to Friday if possible."]),
    ("suggestion", "suggestion", ["saas", "shop", "food"], ["Feature idea", "Suggestion"],
     ["Could you add dark mode to {service}? It would be lovely.",
      "Have you thought about adding a wishlist? I'd use it a lot.",
      "It would be great if I could export reports as CSV."]),
    ("invoice-supplier", "admin", ALL, ["Invoice {INV}", "Statement for {month}"],
     ["Please find attached invoice {INV} for {month}. Payment terms are 30 days.",
      "Attached is our statement for {month}. Let me know if anything is missing."]),
    ("meeting", "admin", ALL, ["Meeting next week", "Quarterly review"],
     ["Would Tuesday at 10 work for our quarterly review?",
      "Can we move Thursday's call to the afternoon?"]),
    ("job", "admin", ALL, ["Application", "Job enquiry"],
     ["I'd like to apply for the customer support role. My CV is attached.",
      "Are you hiring for the summer season?"]),
    ("press", "admin", ALL, ["Press enquiry"],
     ["I'm a journalist writing about sustainable packaging and would love to interview your founder.",
      "We're featuring local businesses in our magazine, would you like to take part?"]),
    ("partnership", "admin", ALL, ["Partnership opportunity"],
     ["We help companies like yours grow their sales, could we have a 15 minute call?",
      "I'd love to discuss a partnership between our brands."]),
    ("newsletter", "bulk", ALL, ["Our {month} newsletter", "50% off this weekend!", "New arrivals"],
     ["This month: new arrivals, our winter sale and tips from the team. Unsubscribe any time.",
      "Everything half price this weekend only! Complaints about prices? Never!",
      "Don't miss out: free delivery on orders over 50 until Sunday."]),
    ("spam", "spam", ALL, ["Increase your ranking", "Dear friend", "You have won"],
     ["We can put your website on page one of Google guaranteed. Reply YES for a free audit.",
      "Dear friend, I have a business proposal of mutual benefit involving a large sum.",
      "Congratulations! You have been selected for a free cruise. Claim now."]),
    ("q-negative-words", "question", ALL, ["Quick question"],
     ["Is it a problem if I pay a few days late this month? Nothing's wrong, just a cash-flow thing.",
      "What happens if a parcel gets lost in the post? Asking before I order.",
      "My old phone is broken, can I trade it in against an upgrade?",
      "I never received a welcome email, is that normal or should I check spam?"]),
    ("q-refund-how", "question", ["shop", "saas", "airline"], ["Refund question"],
     ["How long do refunds usually take to show on a card?",
      "If I cancel within 14 days, do I get a full refund?"]),
    ("q-complaint-process", "question", ALL, ["Complaints procedure"],
     ["Where can I find your complaints procedure? Our company policy asks us to keep a copy for every supplier.",
      "Do you have a customer charter I can read?"]),
    ("praise-recovery", "praise", ALL, ["Thank you for sorting it", "Great recovery"],
     ["I was annoyed last week, but the way your team fixed it was brilliant. Thank you.",
      "After the mix-up with {ref}, {staff} went above and beyond. Really impressed.",
      "The problem's solved and the voucher was a lovely touch. Thanks!"]),
    ("review-positive", "praise", ALL, ["Review"],
     ["5/5. Fast, friendly and exactly as described.", "5 stars, would recommend to anyone.",
      "4/5 - good value, arrived on time, no complaints."]),
    ("post-positive", "praise", ALL, [""],
     ["@{brand} you lot are amazing, sorted in five minutes", "big thanks to {brand} for the quick fix today",
      "shoutout to {staff} at {brand}, legend"]),
    ("out-of-scope", "admin", ALL, ["Wrong company?"],
     ["Sorry, I think I emailed the wrong company. Please ignore.",
      "This was meant for my accountant, apologies."]),
    ("forward-internal", "admin", ALL, ["FYI"],
     ["Forwarding the supplier's new price list for next year, no action needed.",
      "FYI the office is closed on the 26th."]),
    ("survey-reply", "feedback", ALL, ["Re: How did we do?"],
     ["5 - very satisfied", "4/5, happy with it", "All good, nothing to add."]),
    ("feedback-neutral", "feedback", ALL, ["Feedback"],
     ["Overall it was fine. The app is easy to use and delivery was on time.",
      "Filling in your survey: service was okay, nothing to add."]),
]

GREETINGS = ["Hi,", "Hello,", "Dear Sir or Madam,", "To whom it may concern,", "Hey", "Hi there,",
             "Good morning,", "Hi team,", "{brand} support,", "Hello {brand},", "", "", "", "Dear team,"]
CONTEXT = ["I've been a customer for six years.", "I ordered on {day}.",
           "I run a small bakery and rely on you.", "This is my first order with you.",
           "We are a team of 12 using your service every day.", "I'm writing on behalf of my mother.",
           "I booked this months ago for a family holiday.", "", "", "", ""]
LOW = ["Not a big deal, but I thought you should know.", "No rush.", "Just letting you know.",
       "It's a small thing.", "Otherwise all good.", "Could you take a look when you have a moment?",
       "Only a minor gripe.", "Mildly irritating, that's all.", "Just a small niggle.",
       "Not a huge deal overall.", "Everything else was fine.", "Happy otherwise!", "", ""]
MEDIUM = ["This is really frustrating.", "I'm pretty annoyed about this.", "Not good enough.",
          "I expected better from you.", "Very disappointed.", "This is the kind of thing that shouldn't happen.",
          "Honestly, it's a hassle I don't need.", "Please sort this out."]
HIGH_REPEAT = ["This is the third time this has happened.", "Same problem as last month, and the month before.",
               "great, third time this month.", "I've reported this twice already.",
               "Every single order has had a problem.", "Again. AGAIN."]
HIGH_MONEY = ["I've lost {amount} because of this.", "I'm out of pocket by {amount}.",
              "I had to pay {amount} for a taxi because of you.", "This has cost my business {amount} in lost sales.",
              "I had to take an unpaid day off work."]
HIGH_LEAVE = ["If this isn't fixed this week I'm cancelling.", "I'll be taking my business elsewhere.",
              "I'm closing my account.", "I'm done with you.", "I'll never order from you again.",
              "Consider this my notice, I'm switching provider."]
HIGH_ANGER = ["This is absolutely disgraceful.", "I am FURIOUS.", "Worst service I have ever had.",
              "Thanks for nothing.", "Unbelievable.", "Pathetic.", "What a joke of a company.",
              "Wow, great service as always.", "Love paying for something that doesn't work.",
              "Five stars for consistency: consistently useless.", "Absolute shambles.",
              "You should be ashamed.", "Never again."]
CRITICAL = {
    "legal": ["I have instructed my solicitor.", "I will be taking legal action.",
              "My lawyer will be in touch.", "I'm taking you to the small claims court.",
              "Expect a letter before action."],
    "injury": ["It sparked and burned my hand.", "My son cut his finger badly on it and needed stitches.",
               "My daughter had an allergic reaction and ended up in hospital.", "It caught fire in our kitchen.",
               "I slipped on the wet floor nobody had signed and hurt my back."],
    "breach": ["This is a data breach.", "That is a serious breach of data protection law.",
               "My personal data is now in the hands of strangers."],
    "regulator": ["I'm reporting this to the ombudsman.", "I have complained to the regulator.",
                  "I've contacted the Information Commissioner's Office.", "I'm going to the press with this.",
                  "A journalist friend is very interested in this story.", "I've filed a complaint with Trading Standards."],
    "vulnerable": ["My 89-year-old father was left without heating in freezing weather.",
                   "I'm disabled and was left stranded with no help.",
                   "I'm undergoing chemotherapy and cannot go days without this.",
                   "We have a newborn baby in the house.", "My mother has dementia and was frightened."],
    "discrimination": ["The staff member made racist remarks to me.", "I was refused service because I'm in a wheelchair.",
                       "I was treated differently because of my religion.", "He made sexist comments about my wife."],
}
CRITICAL_FIT = {
    "legal": None, "regulator": None, "vulnerable": None,
    "injury": {"defect", "delivery", "staff", "other", "outage"},
    "breach": {"privacy", "account"},
    "discrimination": {"staff", "other"},
}
ASKS = ["Please refund me.", "I want a replacement.", "Can someone call me?", "Please fix it.",
        "What are you going to do about it?", "I'd like this resolved today.", "Please respond.",
        "Let me know what happens next.", "I want compensation.", "", "", ""]
SIGNOFFS = ["Thanks,", "Regards,", "Kind regards,", "Cheers,", "Best,", "Sincerely,", "", "", "Thanks in advance,"]
NAMES = ["Sarah", "Mark Henderson", "Priya", "Dave", "Jean-Luc", "Aisha", "Ben", "Grace Liu", "Tomasz",
         "Maria Lopez", "Ken", "Fatima", "Olu", "Hannah", "Linda Park", "Chloé", "Ivan", "Yuki", "Carlos",
         "Amara", "Niamh", "Rohan", "Sofia", "Wei", "Lars", "Emeka", "Zoë", "Ahmed", "Rachel", "Tom", "J.",
         "Mrs P. Adeyemi", "Dr. Kowalski", "Sam", "Lucía", "Anna", "Mohammed", "Freya", "Oscar", "Leila"]
DAYS = ["Monday", "Tuesday", "last Friday", "the 3rd", "12 November", "the weekend", "yesterday", "Sunday"]
SPANS = ["two weeks", "10 days", "three days", "a month", "six weeks", "five days", "48 hours"]
MONTHS = ["October", "September", "March", "November", "June"]
CURRENCIES = ["£{a}", "${a}", "€{a}", "{a} pounds", "{a} EUR", "USD {a}"]

NON_NATIVE = [(r"\bhasn't arrived\b", "not arrive"), (r"\bI have\b", "i have"), (r"\bI've\b", "i am"),
              (r"\bdidn't\b", "not"), (r"\bthe\b ", ""), (r"\bwas\b", "is"), (r"\bI'm\b", "i am"),
              (r"\bstill\b", "until now still"), (r"\bPlease\b", "Kindly"), (r"\bcan't\b", "cannot able to")]


class Filler:
    """Fills slots for one message: the same item, reference and amount wherever they recur."""

    def __init__(self, rng: random.Random, industry: str) -> None:
        vocab = INDUSTRIES[industry]

        def number(digits: int) -> str:
            return str(rng.randint(10 ** (digits - 1), 10**digits - 1))

        ref = rng.choice(vocab["ref"]).format(
            n4=number(4), n5=number(5), n6=number(6), n8=number(8),
            w=rng.choice(["acme", "orbit", "delta-co", "brightside"]),
            REF="".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6)),
            FL=f"{rng.choice(['AN', 'BC', 'SK', 'MW'])}{number(3)}",
            flat=f"{rng.randint(1, 40)}{rng.choice('ABCD')}", day=rng.choice(DAYS),
        )
        amount = rng.choice(CURRENCIES).format(
            a=rng.choice(["14.99", "85", "1,240.00", "49", "230", "9.50", "600", "37.20", "2,000"])
        )
        self.values = {
            "item": rng.choice(vocab["item"]), "staff": rng.choice(vocab["staff"]),
            "service": rng.choice(vocab["service"]), "brand": rng.choice(vocab["brand"]),
            "amount": amount, "day": rng.choice(DAYS), "days": rng.choice(SPANS),
            "month": rng.choice(MONTHS), "INV": f"INV-2026-{number(4)}", "ref": ref,
        }

    def __call__(self, text: str) -> str:
        text = re.sub(r"\{(\w+)\}", lambda m: self.values.get(m.group(1), m.group(0)), text)
        return text[0].upper() + text[1:] if text else text


def typos(text: str, rng: random.Random, rate: float) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and rng.random() < rate:
            j = rng.randrange(1, len(word) - 1)
            op = rng.choice(("swap", "drop", "double"))
            if op == "swap":
                word = word[:j - 1] + word[j] + word[j - 1] + word[j + 1:]
            elif op == "drop":
                word = word[:j] + word[j + 1:]
            else:
                word = word[:j] + word[j] + word[j:]
            words[i] = word
    return " ".join(words)


def style(body: str, subject: str, kind: str, rng: random.Random) -> tuple[str, str]:
    if kind == "typos":
        body = typos(body, rng, 0.12)
    elif kind == "lower":
        body, subject = body.lower().replace(".", ""), subject.lower()
    elif kind == "nonnative":
        for pattern, repl in NON_NATIVE:
            if rng.random() < 0.6:
                body = re.sub(pattern, repl, body)
        body = body.lower()
    elif kind == "shout":
        sentences = body.split(". ")
        k = rng.randrange(len(sentences))
        sentences[k] = sentences[k].upper()
        body = ". ".join(sentences)
    return body, subject


def compose_complaint(rng: random.Random, category: str, situation: tuple, severity: str, industry: str) -> dict:
    sid, _, base, subjects, phrasings = situation
    fill = Filler(rng, industry)
    chosen = rng.sample(phrasings, 2 if rng.random() < 0.3 and len(phrasings) > 1 else 1)
    core = [fill(p) for p in chosen]
    tone: list[str] = []
    reasons: list[str] = []
    if severity == "low":
        tone.append(rng.choice(LOW))
    elif severity == "medium":
        if rng.random() < 0.7:
            tone.append(rng.choice(MEDIUM))
    elif severity == "high":
        pools = [HIGH_REPEAT, HIGH_MONEY, HIGH_LEAVE, HIGH_ANGER]
        for pool in rng.sample(pools, rng.choice([1, 1, 2, 2, 3])):
            tone.append(fill(rng.choice(pool)))
    elif severity == "critical" and base != "critical":
        kinds = [k for k, fit in CRITICAL_FIT.items() if fit is None or category in fit]
        kind = rng.choice(kinds)
        reasons.append(kind)
        tone.append(rng.choice(CRITICAL[kind]))
        if rng.random() < 0.4:
            tone.append(rng.choice(HIGH_ANGER + HIGH_LEAVE))
    form = rng.choices(["email", "short", "review", "post"], weights=[60, 18, 10, 12])[0]
    brand = fill.values["brand"]
    subject = fill(rng.choice(subjects))
    if form == "email":
        parts = [fill(rng.choice(GREETINGS))]
        parts.append(fill(rng.choice(CONTEXT)))
        parts.append(" ".join(core + tone[:1]))
        if tone[1:]:
            parts.append(" ".join(tone[1:]))
        parts.append(rng.choice(ASKS))
        signoff = rng.choice(SIGNOFFS)
        name = rng.choice(NAMES)
        parts.append(f"{signoff}\n{name}" if signoff else name if rng.random() < 0.7 else "")
        body = "\n\n".join(p for p in parts if p)
    elif form == "short":
        body = " ".join(core[:1] + tone)
    elif form == "review":
        stars = {"low": "3/5", "medium": "2/5", "high": "1/5", "critical": "1/5"}[severity]
        body = f"{rng.choice([stars, stars + ' stars', 'Rating: ' + stars])}. " + " ".join(core + tone)
        subject = rng.choice(["Review", f"Review of {brand}", subject])
    else:
        handle = "@" + brand.replace(" ", "").replace("&", "and")
        body = f"{handle} " + " ".join(core[:1] + tone) + rng.choice(["", " #fail", " #customerservice", " smh", ""])
        subject = ""
    kind = rng.choices(["plain", "typos", "lower", "nonnative", "shout"], weights=[62, 12, 10, 10, 6])[0]
    if kind == "shout" and severity == "low":
        kind = "plain"
    body, subject = style(body, subject, kind, rng)
    return {"subject": subject, "body": body, "complaint": True, "severity": severity,
            "category": category, "group": sid, "industry": industry, "style": f"{form}/{kind}"}


def compose_other(rng: random.Random, situation: tuple, industry: str) -> dict:
    sid, kind, _, subjects, phrasings = situation
    fill = Filler(rng, industry)
    core = fill(rng.choice(phrasings))
    form = rng.choices(["email", "short"], weights=[75, 25])[0]
    subject = fill(rng.choice(subjects))
    if kind in ("bulk", "spam"):
        form = "email"
    if form == "email":
        signoff = rng.choice(SIGNOFFS + ["Best wishes,", "Many thanks,"])
        parts = [fill(rng.choice(GREETINGS)), core,
                 rng.choice(["", "", "Thanks!", "Have a nice day.", "Let me know."]),
                 f"{signoff}\n{rng.choice(NAMES)}" if signoff else ""]
        body = "\n\n".join(p for p in parts if p)
    else:
        body = core
    style_kind = rng.choices(["plain", "typos", "lower", "nonnative"], weights=[70, 12, 10, 8])[0]
    body, subject = style(body, subject, style_kind, rng)
    return {"subject": subject, "body": body, "complaint": False, "severity": None, "category": None,
            "group": sid, "industry": industry, "style": f"{form}/{style_kind}", "kind": kind}


def build(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    records = []
    n_complaints = int(count * 0.62)
    situations = [(cat, s) for cat, items in COMPLAINTS.items() for s in items]
    for i in range(n_complaints):
        category, situation = situations[i % len(situations)]
        base = situation[2]
        if base == "critical":
            severity = "critical"
        elif base == "high":
            severity = rng.choices(["high", "critical"], weights=[80, 20])[0]
        elif base == "low":
            severity = rng.choices(["low", "medium", "high", "critical"], weights=[55, 15, 20, 10])[0]
        else:
            severity = rng.choices(["medium", "high", "critical"], weights=[50, 35, 15])[0]
        industry = rng.choice(situation[1])
        records.append(compose_complaint(rng, category, situation, severity, industry))
    for i in range(count - n_complaints):
        situation = NON_COMPLAINTS[i % len(NON_COMPLAINTS)]
        records.append(compose_other(rng, situation, rng.choice(situation[2])))
    rng.shuffle(records)
    for i, record in enumerate(records):
        record["id"] = f"c{i:05d}"
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=4200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(HERE / "corpus.jsonl"))
    args = parser.parse_args()
    records = build(args.count, args.seed)
    with open(args.out, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} records to {args.out}")


if __name__ == "__main__":
    main()
