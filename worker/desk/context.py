"""What a reply needs to know from the customer's mail: pure functions over text.

A good agent writes "Hi Sarah, I'm sorry your order #48213 hasn't arrived", not "Dear
customer, we regret any inconvenience". This module finds the name, the sentence that carries
the complaint, and the references, dates and amounts the customer mentioned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .asks import AMOUNT, Asks, extract_asks, is_ask

_NOT_NAMES = {
    "support", "team", "info", "admin", "customer", "service", "sales", "office", "mr", "mrs",
    "ms", "dr", "the", "sent", "from", "thanks", "regards", "cheers", "best", "kind", "hello",
    "noreply", "no-reply", "mailer-daemon", "postmaster", "accounts", "billing", "contact",
}
_TITLE = re.compile(r"^(mr|mrs|ms|miss|dr|prof)\.?\s+", re.I)
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:[-'’][^\W\d_]+)*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_COMPLAINT_WORDS = re.compile(
    r"\b(not|never|no|nothing|nobody|no one|still|again|late|broken|damaged|wrong|missing|charged|refund|cancel\w*|"
    r"rude|waited|waiting|lost|failed|error|crash\w*|down|locked|leak\w*|faulty|disappointed|sparked|unsafe|"
    r"unacceptable|twice|overcharged|didn't|hasn't|haven't|won't|can't|cannot|second time|third time|"
    r"safe place|giving up|ignored|chasing|no reply|no response|glass|cut|hurt|injur\w*|burn\w*|melt\w*|"
    r"dangerous|humiliated|threatened|shouted|furious|turned away|chip|chipped|crack\w*|scratch\w*|dent\w*|torn|"
    r"pas|jamais|toujours|cass[ée]e?|endommag[ée]e?|ab[îi]m[ée]e?|rembours\w*|retard|erreur|personne)\b",
    re.I,
)
_QUESTION_START = re.compile(r"\b(can|could|would|will|is|are|do|does|did|when|where|what|how|why|who|should|may)\b", re.I)
_REFERENCE = re.compile(
    r"(?:(?:order|ticket|case|booking|invoice|reference|ref|account|reservation|confirmation|"
    r"tracking|pnr|flight)\s{0,5}(?:no\.?|number|#|:)?\s{0,5}#?\s{0,5})([A-Z0-9][A-Z0-9-]{3,40})\b|#(\d{4,40})\b",
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
    complaint_sentence: str | None
    references: tuple[str, ...] = ()
    amounts: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    subject: str = ""
    question: str | None = None
    asks: Asks = field(default_factory=Asks)  # what the latest message asks for, in order


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


_LEAD_IN = re.compile(r"^(?:(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b[^,:.!?]{0,30}[,:!]\s*)?"
                      r"(?:[^,:.!?]{1,20}:\s+)?", re.I)


def _sentences(text: str) -> list[str]:
    # Mail clients wrap lines mid-sentence: rejoin each paragraph before splitting sentences.
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    sentences = (s.strip() for p in paragraphs for s in _SENTENCE.split(p))
    return [s for s in (_LEAD_IN.sub("", s, count=1) for s in sentences if s) if s]


def _problem_score(sentence: str) -> int:
    """Complaint words, plus a little for a reference; a bare reference ("Order 51177.") scores 0."""
    words = len(_COMPLAINT_WORDS.findall(sentence))
    return words + (1 if words and _REFERENCE.search(sentence) else 0)


def complaint_sentence(text: str) -> str | None:
    """The words that say most plainly what went wrong: the best sentence, joined by the next
    best when both carry the complaint and fit in a short quote, in the customer's order; never
    a sentence that asks for something."""
    scored = [(i, s, _problem_score(s)) for i, s in enumerate(_sentences(text))
              if 20 <= len(s) <= 300 and not s.endswith(":") and not s.endswith("?")
              and not is_ask(s)]  # what they ask for is answered, not quoted back as the problem
    ranked = sorted((x for x in scored if x[2] > 0), key=lambda x: (-x[2], x[0]))
    if not ranked:
        return None
    chosen = [ranked[0]]
    if len(ranked) > 1 and ranked[1][2] >= 1 and len(ranked[0][1]) + len(ranked[1][1]) <= 240:
        chosen.append(ranked[1])
    return " ".join(s for _, s, _ in sorted(chosen))


def question(text: str) -> str | None:
    """The customer's first real question, to be answered rather than ignored."""
    for sentence in _sentences(text):
        if sentence.endswith("?") and 8 <= len(sentence) <= 240 and _QUESTION_START.search(sentence):
            return sentence
    return None


def references(text: str) -> tuple[str, ...]:
    found: dict[str, str] = {}
    for match in _REFERENCE.finditer(text):
        value = match.group(1) or match.group(2)
        if value and any(ch.isdigit() for ch in value):
            words = match.group(0).split()  # as the customer wrote it: "order #48213"
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
    sentence = next((found for found in map(complaint_sentence, thread) if found), None)
    text = "\n".join([subject, *thread])
    return ReplyContext(
        first_name=name,
        greeting_name=name or "there",
        complaint_sentence=sentence,
        references=references(text),
        amounts=tuple(dict.fromkeys(a for t in thread for a in AMOUNT.findall(t))),
        dates=tuple(dict.fromkeys(m.group(0) for m in _DATE.finditer(new_text))),
        subject=subject,
        question=question(new_text),
        asks=extract_asks(new_text),
    )
