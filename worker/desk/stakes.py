"""High-stakes complaints: what changes the reply itself, decided by rules a person can read.

Five kinds change what a good agent writes first, whatever the category:

- **safeguarding** (a person at risk: harassment, abuse, threats, a medical need, no money for
  food): their safety first, and a named person who calls them the same day; never a product
  script;
- **safety** (a product or food that can hurt): the reply opens with the safety step (stop
  using it, unplug it, keep it) and never offers again the remedy that already failed;
- **legal** (a lawyer, a regulator, an ombudsman, the police, a threat to go to the press): no
  admission of fault, a neutral holding reply, held for a role named in the config;
- **press** (a reporter asking questions): a neutral reply that passes them to the press team,
  held for its role; no apology, no admission, no offer;
- **privacy**: what is known, what is being done, and where to send a request about one's data.

The rules are the classifier's critical rules (``classifiers/rules.py``) plus the phrasings
below; the draft page shows which rule fired and on which words. All patterns are linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from classifiers.rules import RULES

from ..config import STAKES

KINDS = STAKES  # the order a draft page lists them in
_FROM_RULES = {"injury or safety": "safety", "legal threat": "legal", "regulator or press": "legal",
               "data breach": "privacy"}
_MORE: dict[str, re.Pattern] = {
    "safety": re.compile(
        r"\b(?:(?:don'?t|do not|no longer) feel safe|not safe|electric(?:al)? shock|shocked me|smoke|smoking|"
        r"scorch(?:ed|ing)?|melt(?:ed|ing)|overheat(?:ed|ing|s)?|exploded?|"
        r"(?:cut|cuts|cutting) out (?:on|in|at) (?:the |a )?(?:motorway|dual carriageway|fast road|junction|roundabout))\b",
        re.I),
    "safeguarding": re.compile(
        r"\b(?:harass\w*|stalk(?:ed|ing|er|s)?|sexual(?:ly)? (?:assault\w*|harass\w*|comments?|advances)|"
        r"assault(?:ed)?|abus(?:er|ive partner|ive ex)|domestic (?:abuse|violence)|(?:my|an) abuser|"
        r"refuge|threaten(?:ed|ing) (?:me|to (?:hurt|kill|hit))|"
        r"(?:scared|afraid|frightened|fear) for my (?:safety|life)|followed me (?:home|to)|"
        r"(?:scared|afraid|frightened|terrified) (?:to (?:open|leave|go|be)|of (?:him|her|them))|i know (?:you'?re|you are) home|"
        r"priority services? register|"
        r"(?:no|don'?t have (?:any )?) money (?:left )?for (?:food|gas|electricity|heating)|can'?t afford (?:to eat|food)|"
        r"food ?bank|suicid\w*|self[- ]harm|kill myself)\b", re.I),
    "legal": re.compile(
        r"\b(?:data (?:protection )?regulator|cnil|legal (?:advice|proceedings|team)|my rights under|"
        r"watchdog|report (?:you|this) to|police|ombudsman|trading standards|nsi\b|food standards agency|"
        r"environmental health|product safety (?:authority|regulator)|office for product safety|"
        r"going to the (?:papers|newspapers)|tell the (?:papers|newspapers|media))\b", re.I),
    "press": re.compile(
        r"\b(?:i(?:'m| am) (?:a |an )?(?:reporter|journalist|correspondent|editor|producer)|"
        r"(?:reporter|journalist|correspondent) (?:at|for|with) |media (?:enquiry|inquiry|request)|"
        r"press (?:enquiry|inquiry|office)|(?:writing|working on|researching) (?:a |an )?(?:story|article|piece|report) "
        r"(?:about|on)|for (?:a|an|our) (?:story|article|piece|segment|programme|program) (?:about|on)|"
        r"(?:request|ask) (?:for )?(?:a )?comment|on the record)\b", re.I),
    "privacy": re.compile(
        r"\b(?:personal (?:data|information|details)|my data|subject access|delete (?:all )?my (?:data|details|account)|"
        r"privacy|someone else'?s (?:name|address|order|invoice))\b", re.I),
}
_FOOD = re.compile(r"\b(?:ate|eat(?:en|ing)?|food|meal|sandwich|salad|drink|bottle|glass in|allerg\w*|poison\w*|"
                   r"choking|mouth)\b", re.I)
# A hazard, not the service: "no electricity" in a power cut is an outage, not a faulty appliance.
_ELECTRICAL = re.compile(r"\b(?:plug|socket|spark\w*|charger|cable|wire|wiring|battery|kettle|heater|toaster|"
                         r"electric(?:al)? (?:shock|fire|fault)|smoke|smoking|melt\w*|overheat\w*|fire)\b", re.I)
# Someone who depends on a medical device and has lost the power or supply it needs.
_MEDICAL_DEVICE = re.compile(r"\b(?:insulin|oxygen (?:machine|concentrator|supply|cylinders?)|dialysis (?:machine)?|"
                             r"ventilator|life support|stair ?lift|hoist|nebuli[sz]er|feeding pump|medical equipment)\b", re.I)
_NO_SUPPLY = re.compile(r"\b(?:without (?:power|electricity|water|heating)|no (?:power|electricity|water|heating)|"
                        r"power (?:cut|outage|off|failure)|(?:power|electricity) (?:has been|was|went) (?:off|out|down)|"
                        r"outage|fridge (?:broke|stopped|failed))\b", re.I)
_VEHICLE = re.compile(r"\b(?:car|brakes?|tyres?|tires?|steering|airbags?|bike|scooter)\b", re.I)
_REPLACEMENT = re.compile(r"\b(?:replacement|replaced|second one|new one they sent|exchange[sd]?)\b", re.I)
ADMISSION = re.compile(
    r"\b(?:our fault|on us|we(?:'ve| have)? made a mistake|we got (?:this|it) wrong|should never have happened|"
    r"we let you down|liab(?:le|ility)|(?:we|i) accept (?:full )?responsibility|negligen\w*|"
    r"you deserved (?:far )?better|take full responsibility|we(?:'re| are) responsible)\b", re.I)


@dataclass(frozen=True)
class Stake:
    kind: str
    rule: str
    found: str

    def describe(self) -> str:
        return f"{self.kind}: {self.rule} ({self.found!r})"


@dataclass(frozen=True)
class Stakes:
    hits: tuple[Stake, ...] = ()
    safety_step: str | None = None  # "electrical", "food", "vehicle" or "general"
    replacement_failed: bool = False

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(kind for kind in KINDS if any(hit.kind == kind for hit in self.hits))

    def __contains__(self, kind: str) -> bool:
        return kind in self.kinds

    def to_json(self) -> dict:
        return {"kinds": list(self.kinds), "rules": [hit.describe() for hit in self.hits],
                "safety_step": self.safety_step, "replacement_failed": self.replacement_failed}


def assess(text: str) -> Stakes:
    """The stakes of a case, from the customer's words (latest message and thread together)."""
    text = text[:20_000]
    hits: list[Stake] = []
    for rule, kind in _FROM_RULES.items():
        match = RULES[rule].search(text)
        if match:
            hits.append(Stake(kind, rule, match.group(0)))
    for kind, pattern in _MORE.items():
        if kind not in {hit.kind for hit in hits}:
            match = pattern.search(text)
            if match:
                hits.append(Stake(kind, f"{kind} wording", match.group(0)))
    if "safeguarding" not in {hit.kind for hit in hits}:
        device, supply = _MEDICAL_DEVICE.search(text), _NO_SUPPLY.search(text)
        if device and supply:
            hits.append(Stake("safeguarding", "medical need without supply", f"{device.group(0)} … {supply.group(0)}"))
    step = None
    if any(hit.kind == "safety" for hit in hits):
        step = ("vehicle" if _VEHICLE.search(text) else "food" if _FOOD.search(text)
                else "electrical" if _ELECTRICAL.search(text) else "general")
    if step == "general" and any(hit.kind == "safeguarding" for hit in hits):
        hits, step = [hit for hit in hits if hit.kind != "safety"], None  # the danger is a person, not a product
    if any(hit.kind == "press" for hit in hits):  # a reporter asking, not a customer threatening the papers
        hits = [hit for hit in hits if not (hit.kind == "legal" and hit.rule == "regulator or press")]
    return Stakes(tuple(hits), step, bool(_REPLACEMENT.search(text)))


def admissions(text: str) -> list[str]:
    """Phrases that admit fault or liability: never in a reply to a legal threat."""
    return [match.group(0) for match in ADMISSION.finditer(text[:50_000])]
