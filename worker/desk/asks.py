"""What the customer asks for, in the order they ask it: a refund (and how much), a replacement,
a repair or an engineer's visit, a call back (and on which number), to cancel, to unsubscribe,
to change a detail, to delete or export their data, and by when; and how many times they have
had to ask already.

A good reply answers each ask in turn, and a goodwill extra comes on top of them, never instead
(a month free is no answer to "cancel and refund my $192"). Pure functions on the customer's
own words; every pattern runs in linear time (no nested quantifiers), and the text is cut to
its first 20,000 characters, so hostile mail costs no more than long mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .context import AMOUNT

MAX_CHARS = 20_000

ASK_KINDS = ("refund", "replacement", "repair", "callback", "cancel", "unsubscribe", "change", "delete_data",
             "export_data")

# Each kind: the words that ask for it. Only requests count ("I want", "please", "can you",
# an imperative), not a mention ("the refund you promised" is a chaser, found by the count).
_REQUEST = r"(?:i(?:'d| would)? (?:want|like|need|expect|demand|request)|i am (?:requesting|asking for)|please|" \
           r"can (?:you|i|we)|could (?:you|i|we)|kindly|i'm asking for|i ask (?:you )?for|give me|send me|" \
           r"we want|we need|i insist on)\b[^.!?\n]{0,60}?"
_ASKS: dict[str, re.Pattern] = {
    "refund": re.compile(_REQUEST + r"\b(?:(?:a |my |the |full )?refund(?:ed)?|money back|reimburs\w*|"
                         r"credit (?:it )?back|charge(?:back)? reversed)\b", re.I),
    "replacement": re.compile(_REQUEST + r"\b(?:a |the )?(?:replacement|new one|replace (?:it|them|the \w+))\b", re.I),
    "repair": re.compile(_REQUEST + r"\b(?:an? )?(?:engineer|technician|repair(?:ed)?|fix(?:ed)? (?:it|this)|"
                         r"(?:someone )?to (?:come|visit) (?:out|round|and fix))\b", re.I),
    "callback": re.compile(r"\b(?:call me(?: back)?|ring me|phone me|give me a call|call back|a call(?:back)?|"
                           r"speak to (?:someone|a (?:person|human|manager))|contact me (?:by|on) (?:phone|telephone))\b",
                           re.I),
    "cancel": re.compile(r"\b(?:cancel(?:l?ing|l?ed)? (?:my|the|this|our) (?:order|subscription|account|contract|"
                         r"membership|plan|booking)|(?:please )?cancel (?:it|everything)|close my account|"
                         r"end my (?:contract|subscription))\b", re.I),
    "unsubscribe": re.compile(r"\b(?:unsubscribe|stop (?:sending|emailing|texting) me|take me off|remove me from)\b",
                              re.I),
    "change": re.compile(_REQUEST + r"\b(?:change|update|correct) (?:my|the) (?:delivery )?(?:address|email|name|"
                         r"phone number|number|details|date|time|booking|order)\b", re.I),
    "delete_data": re.compile(r"\b(?:delete|erase|remove) (?:all )?(?:of )?my (?:personal )?(?:data|details|"
                              r"information|account)|right to (?:erasure|be forgotten)\b", re.I),
    "export_data": re.compile(r"\b(?:copy of (?:all )?(?:the |my )?(?:personal )?(?:data|information)|"
                              r"subject access request|\bSAR\b|what data you hold)\b", re.I),
}
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{2,5}(?:[ .-]?\d{2,5}){1,4}(?![\w])")
_DEADLINE = re.compile(
    r"\b(?:by|before|until|no later than)\s+(?:the end of (?:the )?(?:day|week|month)|end of (?:the )?(?:day|week)|"
    r"tomorrow|tonight|today|(?:this |next )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"the (?:\d{1,2})(?:st|nd|rd|th)?|\d{1,2}(?:st|nd|rd|th)? (?:of )?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"[a-z]*|(?:\d{1,2}(?::\d{2})? ?(?:am|pm)))\b", re.I)
_TIMES = re.compile(r"\b(?:(second|third|fourth|fifth|2nd|3rd|4th|5th) (?:time|email|message|attempt)|"
                    r"(twice|three times|four times|five times|several times|multiple times|again and again)|"
                    r"(\d{1,2}) (?:times|emails|calls))\b", re.I)
_TIMES_WORDS = {"second": 2, "2nd": 2, "twice": 2, "third": 3, "3rd": 3, "three times": 3, "fourth": 4, "4th": 4,
                "four times": 4, "fifth": 5, "5th": 5, "five times": 5, "several times": 3, "multiple times": 3,
                "again and again": 3}


@dataclass(frozen=True)
class Ask:
    kind: str  # one of ASK_KINDS
    words: str  # as the customer put it
    amount: str | None = None  # a refund's amount
    number: str | None = None  # a call back's phone number


@dataclass(frozen=True)
class Asks:
    asks: tuple[Ask, ...] = ()
    deadline: str | None = None  # "before Saturday", as they wrote it
    times_asked: int = 1  # this message included: 3 for "this is the third time I've written"

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(ask.kind for ask in self.asks)

    def __contains__(self, kind: str) -> bool:
        return kind in self.kinds

    def get(self, kind: str) -> Ask | None:
        return next((ask for ask in self.asks if ask.kind == kind), None)

    def to_json(self) -> dict:
        return {"asks": [{"kind": a.kind, "words": a.words, "amount": a.amount, "number": a.number} for a in self.asks],
                "deadline": self.deadline, "times_asked": self.times_asked}


def extract_asks(text: str) -> Asks:
    """The asks in ``text`` (the customer's latest message), each kind once, in the order asked."""
    text = text[:MAX_CHARS]
    found: list[tuple[int, Ask]] = []
    for kind, pattern in _ASKS.items():
        match = pattern.search(text)
        if not match:
            continue
        sentence = _sentence_around(text, match.start(), match.end())
        amount = number = None
        if kind == "refund":
            amounts = AMOUNT.findall(sentence) or AMOUNT.findall(text)
            amount = amounts[0].strip() if amounts else None
        elif kind == "callback":
            phones = [p.strip() for p in _PHONE.findall(text) if sum(ch.isdigit() for ch in p) >= 9]
            number = phones[0] if phones else None
        found.append((match.start(), Ask(kind, match.group(0).strip(), amount, number)))
    if "delete_data" in {a.kind for _, a in found}:  # "delete my account" is the data ask, not a cancel too
        found = [(at, a) for at, a in found if a.kind != "cancel" or "account" not in a.words.lower()]
    deadline = _DEADLINE.search(text)
    return Asks(tuple(ask for _, ask in sorted(found, key=lambda item: item[0])),
                deadline.group(0) if deadline else None, _times_asked(text))


def _sentence_around(text: str, start: int, end: int) -> str:
    left = max(text.rfind(".", 0, start), text.rfind("\n", 0, start), text.rfind("!", 0, start),
               text.rfind("?", 0, start))
    right = min((i for i in (text.find(".", end), text.find("\n", end), text.find("!", end), text.find("?", end))
                 if i != -1), default=len(text))
    return text[left + 1:right + 1]


def _times_asked(text: str) -> int:
    most = 1
    for match in _TIMES.finditer(text):
        word = (match.group(1) or match.group(2) or "").lower()
        count = _TIMES_WORDS.get(word) or (int(match.group(3)) if match.group(3) else 1)
        most = max(most, min(count, 20))
    return most
