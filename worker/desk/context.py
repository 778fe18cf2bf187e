"""What a reply needs to know from the customer's mail: pure functions over text.

A good agent writes "Hi Sarah, I'm sorry your order #48213 hasn't arrived", not "Dear
customer, we regret any inconvenience". This module finds the name, the sentence that carries
the complaint, and the references, dates and amounts the customer mentioned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from classifiers.praise import praised_colleague

from .asks import AMOUNT, Asks, extract_asks, is_ask
from .restate import in_our_words, problem_sentence, problems, sentences

_NOT_NAMES = {
    "support", "team", "info", "admin", "customer", "service", "sales", "office", "mr", "mrs",
    "ms", "dr", "the", "sent", "from", "thanks", "regards", "cheers", "best", "kind", "hello",
    "noreply", "no-reply", "mailer-daemon", "postmaster", "accounts", "billing", "contact",
}
_TITLE = re.compile(r"^(mr|mrs|ms|miss|dr|prof)\.?\s+", re.I)
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:[-'’][^\W\d_]+)*$")
_QUESTION_START = re.compile(r"\b(can|could|would|will|is|are|do|does|did|when|where|what|how|why|who|should|may)\b", re.I)
_REFERENCE = re.compile(
    r"(?:(?:order|ticket|case|booking|invoice|reference|ref|account|reservation|confirmation|"
    r"tracking|pnr|flight)\s{0,5}(?:no\.?|number|#|:)?\s{0,5}#?\s{0,5})([A-Z0-9][A-Z0-9-]{3,40})\b|#(\d[A-Z0-9-]{3,40})\b",
    re.I,
)
_DATE = re.compile(
    r"\b(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
    r"(?:\s+\d{4})?|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{1,2}(?:st|nd|rd|th)?"
    r"(?:,?\s+\d{4})?|\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}|(?:last\s+)?(?:monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday)|yesterday)\b",
    re.I,
)


@dataclass(frozen=True)
class ReplyContext:
    first_name: str | None
    greeting_name: str
    complaint_sentence: str | None  # in the customer's words
    references: tuple[str, ...] = ()
    amounts: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    subject: str = ""
    questions: tuple[str, ...] = ()  # for the reviewer to answer: the draft leaves {answer: ...}
    asks: Asks = field(default_factory=Asks)  # what the latest message asks for, in order
    restated: str | None = None  # complaint_sentence turned to speak to the customer
    problems: tuple[str, ...] = ()  # restate.problems of the latest message
    colleague: str | None = None  # the colleague a thank-you names ("Priya was wonderful")


def _name_from(candidate: str | None) -> str | None:
    if not candidate:
        return None
    candidate = candidate.strip().strip("\"'")
    if "," in candidate:  # "Henderson, Mark"
        last, _, first = candidate.partition(",")
        candidate = f"{first.strip()} {last.strip()}"
    candidate = _TITLE.sub("", candidate)
    first = candidate.split()[0] if candidate.split() else ""
    if "@" in first or not _NAME_WORD.match(first) or first.lower() in _NOT_NAMES or len(first) < 2:
        return None
    if first.isupper() or first.islower():
        first = first.capitalize()
    return first


def _name_line(line: str) -> str | None:
    if len(line.split()) > 3 or line.endswith((",", ":")) or re.search(r"\d|@|http|\|", line):
        return None
    return _name_from(line)


def first_name(display_name: str | None, signature: str, new_text: str) -> str | None:
    """The display name first, then the name under the sign-off, then a bare name closing the
    mail; else None (and the reply greets neutrally)."""
    name = _name_from(display_name)
    if name:
        return name
    # In a signature the name follows the sign-off; titles and companies come after it.
    for line in (line.strip() for line in signature.splitlines()):
        if not line or line.startswith("--") or line.endswith(",") or line.lower().startswith("sent from"):
            continue
        return _name_line(line)
    lines = [line.strip() for line in new_text.splitlines() if line.strip()]
    return _name_line(lines[-1]) if lines else None


# "I want to know how riders get my number", "please confirm in writing that...": asked, not a question mark.
_WANTS_TO_KNOW = re.compile(r"\b(?:i(?:'d| would)? (?:want|like|need) to know|(?:please )?(?:confirm|explain|tell me) "
                            r"(?:in writing |to me )?(?:that|whether|if|why|how|what|when|who)|i(?:'d| would) like an? "
                            r"(?:explanation|answer)|let me know (?:whether|if|why|how|what|when))\b", re.I)
# "Could you fix it?", "Can someone sort out my login?": what the reply's next step already answers.
_COVERED = re.compile(r"^(?:so |and )?(?:could|can|would|will) (?:you|someone|somebody|one of you) (?:please )?"
                      r"(?:fix|sort|look into|look at|check|have a look|investigate|resolve|help|tell me where (?:it|my|the))\b|"
                      r"^where is (?:it|my (?:order|parcel|package|delivery|refund))\b", re.I)
MAX_QUESTIONS = 3


def questions(text: str) -> tuple[str, ...]:
    """What the customer asked that only a person can answer, in order: their questions and
    "I want to know..." sentences, leaving out those that ask for something the asks answer
    (a refund, a call) and those the reply's next step already answers ("Could you fix it?")."""
    found = []
    for sentence in sentences(text):
        if not 8 <= len(sentence) <= 240 or is_ask(sentence) or _COVERED.search(sentence):
            continue
        if (sentence.endswith("?") and _QUESTION_START.search(sentence)) or _WANTS_TO_KNOW.search(sentence):
            found.append(sentence)
    return tuple(found[:MAX_QUESTIONS])


def references(text: str) -> tuple[str, ...]:
    found: dict[str, str] = {}
    for match in _REFERENCE.finditer(text):
        value = match.group(1) or match.group(2)
        if value and any(ch.isdigit() for ch in value):
            words = match.group(0).replace(":", " ").split()  # as the customer wrote it: "order #48213"
            shown = " ".join([words[0].lower(), *words[1:]]) if words[0][:1].isalpha() else " ".join(words)
            found.setdefault(value.upper(), shown)
    return tuple(found.values())


def build_context(
    subject: str, new_text: str, display_name: str | None, signature: str = "", earlier: Sequence[str] = ()
) -> ReplyContext:
    """``new_text`` is the customer's latest message; ``earlier`` their earlier messages in the
    case, newest first: the problem is restated from the latest words that state it."""
    name = first_name(display_name, signature, new_text)
    thread = [new_text, *earlier]
    found = next(((found, t) for t in thread if (found := problem_sentence(t))), None)
    sentence = found[0] if found else None
    text = "\n".join([subject, *thread])
    return ReplyContext(
        first_name=name,
        greeting_name=name or "there",
        complaint_sentence=sentence,
        references=references(text),
        amounts=tuple(dict.fromkeys(a for t in thread for a in AMOUNT.findall(t))),
        dates=tuple(dict.fromkeys(m.group(0) for m in _DATE.finditer(new_text))),
        subject=subject,
        questions=questions(new_text),
        asks=extract_asks(new_text),
        restated=in_our_words(*found) if found else None,
        problems=problems(f"{subject}\n{new_text}"),
        colleague=praised_colleague(new_text),
    )
