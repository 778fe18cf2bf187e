"""What a reply needs to know from the customer's mail: pure functions over text.

A good agent writes "Hi Sarah, I'm sorry your order #48213 hasn't arrived", not "Dear
customer, we regret any inconvenience". This module finds the name, the sentence that carries
the complaint, and the references, dates and amounts the customer mentioned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NOT_NAMES = {
    "support", "team", "info", "admin", "customer", "service", "sales", "office", "mr", "mrs",
    "ms", "dr", "the", "sent", "from", "thanks", "regards", "cheers", "best", "kind", "hello",
    "noreply", "no-reply", "mailer-daemon", "postmaster", "accounts", "billing", "contact",
}
_TITLE = re.compile(r"^(mr|mrs|ms|miss|dr|prof)\.?\s+", re.I)
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:[-'’][^\W\d_]+)*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_COMPLAINT_WORDS = re.compile(
    r"\b(not|never|no|still|again|late|broken|damaged|wrong|missing|charged|refund|cancel\w*|"
    r"rude|waited|waiting|lost|failed|error|crash\w*|down|locked|leak\w*|faulty|disappointed|"
    r"unacceptable|twice|overcharged|didn't|hasn't|haven't|won't|can't|cannot)\b",
    re.I,
)
_REFERENCE = re.compile(
    r"(?:(?:order|ticket|case|booking|invoice|reference|ref|account|reservation|confirmation|"
    r"tracking|pnr|flight)\s{0,5}(?:no\.?|number|#|:)?\s{0,5}#?\s{0,5})([A-Z0-9][A-Z0-9-]{3,40})\b|#(\d{4,40})\b",
    re.I,
)
# Linear on untrusted text: an amount starts only where a run of digits starts, and is bounded.
_AMOUNT = re.compile(r"(?:[£$€]\s?\d[\d,]{0,15}(?:\.\d{2})?"
                     r"|(?<![\d,.])\d[\d,]{0,15}(?:\.\d{2})?\s?(?:€|EUR|USD|GBP|pounds|dollars|euros))")
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
    extra: dict = field(default_factory=dict)


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


def complaint_sentence(text: str) -> str | None:
    """The sentence that says most plainly what went wrong."""
    best, best_score = None, 0
    # Mail clients wrap lines mid-sentence: rejoin each paragraph before splitting sentences.
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    for sentence in (s for p in paragraphs for s in _SENTENCE.split(p)):
        sentence = sentence.strip()
        if not 12 <= len(sentence) <= 300 or sentence.endswith(":"):
            continue
        score = len(_COMPLAINT_WORDS.findall(sentence)) + (2 if _REFERENCE.search(sentence) else 0)
        if score > best_score:
            best, best_score = sentence, score
    return best


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
    subject: str, new_text: str, display_name: str | None, signature: str = ""
) -> ReplyContext:
    name = first_name(display_name, signature, new_text)
    text = f"{subject}\n{new_text}"
    return ReplyContext(
        first_name=name,
        greeting_name=name or "there",
        complaint_sentence=complaint_sentence(new_text),
        references=references(text),
        amounts=tuple(dict.fromkeys(_AMOUNT.findall(new_text))),
        dates=tuple(dict.fromkeys(m.group(0) for m in _DATE.finditer(new_text))),
        subject=subject,
    )
