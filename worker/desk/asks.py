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

MAX_CHARS = 20_000
# Linear on untrusted text: an amount starts only where a run of digits starts, and is bounded.
AMOUNT = re.compile(r"(?:[£$€]\s?\d[\d,]{0,15}(?:\.\d{2})?"
                    r"|(?<![\d,.])\d[\d,]{0,15}(?:\.\d{2})?\s?(?:€|EUR|USD|GBP|pounds|dollars|euros))")

# Each kind: the words that ask for it, in English and French. Most count only after a request
# ("I want", "please", "can you", "je voudrais", "merci de"), so that a mention is not an ask
# ("the refund you promised" is a chaser, found by the count of times asked).
_REQUEST = (r"\b(?:i(?:'d| would)? (?:want|like|need|expect|demand|request)|i am (?:requesting|asking for)|please|"
            r"can (?:you|i|we)|could (?:you|i|we)|would you|are you able to|is it possible to|"
            r"i'?d (?:appreciate|be grateful for)|kindly(?! \w+ed\b)|is there (?:a|any) way (?:to|for|you could)|let me|"
            r"either|i'm asking for|i ask (?:you )?for|give me|send me|"
            r"we want|we need|i insist on|je (?:veux|voudrais|souhaite|demande|vous demande|réclame|exige)|"
            r"merci de|pouvez-vous|pourriez-vous|veuillez)\b(?:[^.!?\n]|\.(?=\d)){0,60}?")


def _asked(words: str) -> re.Pattern:
    return re.compile(_REQUEST + r"\b(?P<what>" + words + r")", re.I)


def _said(words: str) -> re.Pattern:
    return re.compile(r"\b(?P<what>" + words + r")", re.I)


_ASKS: dict[str, re.Pattern] = {
    "refund": _asked(r"(?:a |my |the |full )?refund(?:ed)?|money back|reimburs\w*|credit (?:it )?back|"
                     r"charge(?:back)? reversed|(?:être )?rembours\w*"),
    "replacement": _asked(r"(?:a |the )?(?:replacement|new one|replace (?:it|them|the \w+))|remplacement|remplacer|"
                          r"échanger?|send (?:me |us )?(?:the|a) (?:missing|new|correct|right) \w+"),
    "repair": _asked(r"(?:an? )?(?:engineer|technician|repair(?:ed)?)|(?:done|redone|fixed|put right) properly|"
                     r"(?:someone )?to (?:come|visit) (?:out|round|and fix)|(?:un )?technicien|réparer|réparation"),
    "callback": _said(r"call me(?: back)?|ring me|phone me|give me a call|call back|a call(?:back)?|"
                      r"speak to (?:someone|a (?:person|human|manager))|contact me (?:by|on) (?:phone|telephone)|"
                      r"me rappeler|rappelez-moi|appelez-moi|m'appeler"),
    "cancel": _said(r"cancel(?:l?ing|l?ed)? (?:my|the|this|our) (?:order|subscription|account|contract|membership|plan|"
                    r"booking)|(?:please )?cancel (?:it|everything)|close my account|end my (?:contract|subscription)|"
                    r"résilier|résiliation|annuler (?:ma|mon) (?:commande|abonnement|contrat|réservation)"),
    "unsubscribe": _said(r"unsubscribe|stop (?:sending|emailing|texting|calling|phoning) me|take me off|remove me from|"
                         r"marketing block|(?:do not|don't) consent to marketing|no more marketing|désabonner|"
                         r"désinscri\w*"),
    "change": _asked(r"(?:change|update|correct) (?:my|the) (?:delivery )?(?:address|email|name|phone number|number|"
                     r"details|date|time|booking|order)|(?:changer|modifier) (?:mon|ma|l')\s?(?:adresse|e-mail|nom|"
                     r"numéro|date|heure|réservation|commande)"),
    "delete_data": _said(r"(?:delete|erase|remove) (?:all )?(?:of )?my (?:personal )?(?:data|details|information|"
                         r"account)|right to (?:erasure|be forgotten)|supprimer (?:toutes )?mes données|droit à l'oubli"),
    "export_data": _said(r"copy of (?:all )?(?:the |my )?(?:personal )?(?:data|information)|subject access request|"
                         r"SAR\b|what data you hold|copie de (?:toutes )?mes données|droit d'accès"),
}
_IMPERATIVE = re.compile(r"(?:^|(?<=[.!?]\s))\s*(?:please\s+)?(?P<what>refund|replace|cancel|unsubscribe|"
                         r"call me|ring me|rembourse[zr]|remplace[zr]|annule[zr]|rappele[zr])\b", re.I | re.M)
_IMPERATIVE_KIND = {"refund": "refund", "replace": "replacement", "cancel": "cancel", "unsubscribe": "unsubscribe",
                    "call me": "callback", "ring me": "callback",
                    "remboursez": "refund", "rembourser": "refund", "remplacez": "replacement",
                    "remplacer": "replacement", "annulez": "cancel", "annuler": "cancel", "rappelez": "callback",
                    "rappeler": "callback"}
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{2,5}(?:[ .-]?\d{2,5}){1,4}(?![\w])")
_DEADLINE = re.compile(
    r"\b(?:by|before|until|no later than|avant|d'ici)\s+(?:the end of (?:the )?(?:day|week|month)|"
    r"end of (?:the )?(?:day|week)|tomorrow|tonight|today|demain|ce soir|"
    r"(?:this |next )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)(?: prochain)?|"
    r"the (?:\d{1,2})(?:st|nd|rd|th)?|\d{1,2}(?:st|nd|rd|th)? (?:of )?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"[a-z]*|(?:\d{1,2}(?::\d{2})? ?(?:am|pm)))\b", re.I)
_TIMES = re.compile(r"\b(?P<word>(?:second|third|fourth|fifth|2nd|3rd|4th|5th) (?:time|email|message|attempt)|"
                    r"twice|(?:three|four|five|six|seven|eight|nine|ten) times|several times|multiple times|again and again|"
                    r"(?:deuxième|troisième|quatrième|cinquième) fois|deux fois|trois fois|plusieurs fois)|"
                    r"(?P<count>\d{1,2}) (?:times|emails|calls|fois|e-mails|appels)\b", re.I)
# A customer who has already left: a credit on their next bill is no use to them.
_LEFT = re.compile(r"\b(?:i(?: have|'ve)? (?:already )?(?:cancell?ed|closed my account|left you)|since (?:i )?cancell?(?:ed|ing)|"
                   r"after (?:i )?cancell?(?:ed|ing)|j'ai (?:déjà )?résilié)\b", re.I)
# A count is of times they contacted us only beside a word for contacting ("I've phoned seven
# times"), not "the third time it has broken" or "I pressed resend 10 times".
_CONTACT = re.compile(r"\b(?:ask(?:ed|ing)?|writ(?:e|ten|ing)|wrote|e-?mail(?:ed|ing)?|call(?:ed|ing)|phon(?:ed|ing)|rang|"
                      r"contact(?:ed|ing)?|chas(?:ed|ing)|messag(?:ed|ing)|report(?:ed|ing)|complain(?:ed|ing)|rais(?:ed|ing)|"
                      r"been in touch|spoken|spoke|told you|écrit|appelé|relancé|contacté|signalé)\b", re.I)
# "If it isn't here by Monday I'll cancel": a threat, answered by fixing the problem, not an ask.
_CONDITION = re.compile(r"\b(?:if|unless|otherwise|or (?:else )?(?:i'?ll|i will|we'?ll|we will)|si|sinon)\b", re.I)
# A refund of something named ("this week's affected items", "the difference"): not the one sum mentioned.
_OBJECT = re.compile(r"\b(?:items?|difference|part|parts|both|each|some|these|those|affected|missing|fees|charges|"
                     r"payments)\b", re.I)
_TIMES_WORDS = {"second": 2, "2nd": 2, "twice": 2, "third": 3, "3rd": 3, "three": 3, "fourth": 4, "4th": 4,
                "four": 4, "fifth": 5, "5th": 5, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "several": 3, "multiple": 3, "again": 3,
                "deuxième": 2, "deux": 2, "troisième": 3, "trois": 3, "quatrième": 4, "cinquième": 5, "plusieurs": 3}


@dataclass(frozen=True)
class Ask:
    kind: str  # a key of _ASKS: refund, replacement, repair, callback, cancel, unsubscribe, change, ...
    words: str  # as the customer put it
    amount: str | None = None  # a refund's amount
    number: str | None = None  # a call back's phone number


@dataclass(frozen=True)
class Asks:
    asks: tuple[Ask, ...] = ()
    deadline: str | None = None  # "before Saturday", as they wrote it
    times_asked: int = 1  # this message included: 3 for "this is the third time I've written"
    left: bool = False  # they have already cancelled or closed their account

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(ask.kind for ask in self.asks)

    def __contains__(self, kind: str) -> bool:
        return kind in self.kinds

    def get(self, kind: str) -> Ask | None:
        return next((ask for ask in self.asks if ask.kind == kind), None)

    def to_json(self) -> dict:
        return {"asks": [{"kind": a.kind, "words": a.words, "amount": a.amount, "number": a.number} for a in self.asks],
                "kinds": list(self.kinds), "deadline": self.deadline, "times_asked": self.times_asked, "left": self.left}


def is_ask(text: str) -> bool:
    """Whether ``text`` asks for any of the things above (no amounts, numbers or counts read)."""
    text = text[:MAX_CHARS]
    return any(pattern.search(text) for pattern in _ASKS.values()) or bool(_IMPERATIVE.search(text))


def extract_asks(text: str) -> Asks:
    """The asks in ``text`` (the customer's latest message), each kind once, in the order asked."""
    text = text[:MAX_CHARS]
    found: list[tuple[int, Ask]] = []
    imperatives = {}
    for match in _IMPERATIVE.finditer(text):
        imperatives.setdefault(_IMPERATIVE_KIND[match.group("what").lower()], match)
    for kind, pattern in _ASKS.items():
        match = pattern.search(text) or imperatives.get(kind)
        if not match:
            continue
        start, end = _sentence_around(text, match.start("what"))
        if kind == "cancel" and _CONDITION.search(text, start, match.start("what")):
            continue
        amount = number = None
        if kind == "refund":  # the amount in the ask's sentence: just after the ask, else just before
            at = match.start("what")
            amounts = _sums(text, at, end) or _sums(text, start, at)[-1:]
            if not amounts and not _OBJECT.search(text, at, end):  # "I want to be reimbursed in full"
                amounts = list(dict.fromkeys(_sums(text, 0, len(text))))
                amounts = amounts if len(amounts) == 1 else []
            amount = amounts[0] if amounts else None
        elif kind == "callback":
            phones = [p.strip() for p in _PHONE.findall(text) if sum(ch.isdigit() for ch in p) >= 9]
            number = phones[0] if phones else None
        found.append((match.start("what"), Ask(kind, match.group("what").strip(), amount, number)))
    if "delete_data" in {a.kind for _, a in found}:  # "delete my account" is the data ask, not a cancel too
        found = [(at, a) for at, a in found if a.kind != "cancel" or "account" not in a.words.lower()]
    deadline = _DEADLINE.search(text)
    return Asks(tuple(ask for _, ask in sorted(found, key=lambda item: item[0])),
                deadline.group(0) if deadline else None, _times_asked(text), bool(_LEFT.search(text)))


_END = re.compile(r"[.!?](?=\s|$)|\n")
_PRICE = re.compile(r"\s?(?:a|per|/)\s?(?:week|month|year|night|mo|yr)\b", re.I)


def _sentence_around(text: str, at: int) -> tuple[int, int]:
    """The bounds of the sentence around ``at``, looking no further than 300 characters each way."""
    starts = [m.end() for m in _END.finditer(text, max(0, at - 300), at)]
    end = _END.search(text, at, at + 300)
    return (starts[-1] if starts else max(0, at - 300)), (end.start() if end else min(len(text), at + 300))


def _sums(text: str, start: int, end: int) -> list[str]:
    """Amounts of money in ``text[start:end]``, leaving out prices ("£64 a week")."""
    return [m.group(0).strip() for m in AMOUNT.finditer(text, start, end) if not _PRICE.match(text, m.end())]


def _times_asked(text: str) -> int:
    most = 1
    for match in _TIMES.finditer(text):
        unit = match.group(0).split()[-1].lower()
        if unit not in ("emails", "calls", "e-mails", "appels") and not _CONTACT.search(
                text, max(0, match.start() - 60), match.end() + 40):
            continue
        if match.group("count"):
            count = int(match.group("count"))
        else:
            count = _TIMES_WORDS.get(match.group("word").split()[0].lower(), 1)
        most = max(most, min(count, 20))
    return most
