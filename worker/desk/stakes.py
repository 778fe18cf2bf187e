"""High-stakes complaints: what changes the reply itself, decided by rules a person can read.

Three kinds change what a good agent writes, whatever the category:

- **safety**: the reply opens with the safety step (stop using it, unplug it, keep it) and
  never offers again the remedy that already failed;
- **legal** (a lawyer, a regulator, the press): no admission of fault, a neutral holding reply,
  and the draft is held for a role named in the config before anyone can approve it;
- **privacy**: what is known, what is being done, and where to send a request about one's data.

The rules are the classifier's critical rules (``classifiers/rules.py``) plus a few everyday
phrasings; the draft page shows which rule fired and on which words. All patterns are linear.
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
        r"scorch(?:ed|ing)?|melt(?:ed|ing)|overheat(?:ed|ing|s)?|exploded?)\b", re.I),
    "legal": re.compile(
        r"\b(?:data (?:protection )?regulator|cnil|legal (?:advice|proceedings|team)|my rights under|"
        r"journalists?|newspapers?|watchdog|report (?:you|this) to)\b", re.I),
    "privacy": re.compile(
        r"\b(?:personal (?:data|information|details)|my data|subject access|delete (?:all )?my (?:data|details|account)|"
        r"privacy|someone else'?s (?:name|address|order|invoice))\b", re.I),
}
_FOOD = re.compile(r"\b(?:ate|eat(?:en|ing)?|food|meal|sandwich|salad|drink|bottle|glass in|allerg\w*|poison\w*|"
                   r"choking|mouth)\b", re.I)
_ELECTRICAL = re.compile(r"\b(?:plug|socket|spark\w*|charger|cable|wire|wiring|battery|kettle|heater|toaster|"
                         r"electric\w*|power|smoke|smoking|melt\w*|overheat\w*|fire)\b", re.I)
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
    step = None
    if any(hit.kind == "safety" for hit in hits):
        step = ("vehicle" if _VEHICLE.search(text) else "food" if _FOOD.search(text)
                else "electrical" if _ELECTRICAL.search(text) else "general")
    return Stakes(tuple(hits), step, bool(_REPLACEMENT.search(text)))


def admissions(text: str) -> list[str]:
    """Phrases that admit fault or liability: never in a reply to a legal threat."""
    return [match.group(0) for match in ADMISSION.finditer(text[:50_000])]
