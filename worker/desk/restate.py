"""The problem, said back in our words: which sentence states it, that sentence turned round to
speak to the customer ("my parcel" becomes "your parcel", "your driver" becomes "our driver"),
and what kind of problem it is, so that the reply's next step fits (a parcel that never came is
traced; one that came spoilt is not).

A reviewer sends a draft that restates the problem as a person would; a quoted fragment or a
signature line has to be rewritten. Pure functions on the customer's text; every pattern is
linear (alternations of fixed words, bounded gaps).
"""

from __future__ import annotations

import re

from .asks import is_ask

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_LEAD_IN = re.compile(r"^(?:(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b[^,:.!?]{0,30}[,:!]\s*)?"
                      r"(?:[^,:.!?()]{1,20}:\s+)?", re.I)
_COMPLAINT_WORDS = re.compile(
    r"\b(not|never|no|nothing|nobody|no one|still|again|late|broken|damaged|wrong|missing|charged|refund|cancel\w*|"
    r"rude|waited|waiting|lost|failed|error|crash\w*|down|locked|leak\w*|faulty|disappointed|sparked|unsafe|"
    r"unacceptable|twice|overcharged|didn't|hasn't|haven't|won't|can't|cannot|second time|third time|"
    r"don't|doesn't|isn't|wasn't|weren't|couldn't|wouldn't|aren't|"
    r"safe place|giving up|ignored|chasing|no reply|no response|glass|hurt|injur\w*|burn\w*|melt\w*|"
    r"dangerous|humiliated|threatened|shouted|furious|turned away|chip|chipped|crack\w*|scratch\w*|dent\w*|torn|"
    r"inedible|mouldy|moldy|rotten|defrosted|thawed|spoilt|spoiled|stopped working|refused|laughed|banned|"
    r"suspended|went down|moved from|taken on|worn|bobbles|patchy|came off|drove off|walked (?:off|away)|embarrass\w*|brushed (?:me )?off|dismissive|"
    r"(?:second|third|fourth|fifth) (?:time|week|month|outage)|"
    r"pas|jamais|toujours|cass[ée]e?|endommag[ée]e?|ab[îi]m[ée]e?|rembours\w*|retard|erreur|personne)\b",
    re.I,
)
# Words that make a sentence the customer's stance or a threat, not the problem itself.
_STANCE = re.compile(r"\b(?:if (?:this|it|i|you|the|my)\b|i'?m not paying|i(?:'ll| will) (?:cancel|move|leave|go|take|"
                     r"report|never)|i expected|i(?:'m| am) (?:so |really |very )?(?:disappointed|frustrated|fed up)|"
                     r"for £|for \$|for €|i(?:'ve| have) been a (?:loyal )?customer|as i'?m sure you know)", re.I)
_FACT = re.compile(r"\d|[£$€]")
# A sentence that demands rather than describes ("Either add more sessions or...", "I'd like...").
_DEMAND = re.compile(r"^(?:either|please|just|kindly|send|give|refund|cancel|let me|add|fix|sort|get|i'?d like|"
                     r"i would like|i want|i need|i expect|we want|we need)\b|\b(?:i'?d like|i would like|i want) ", re.I)
_CLAUSE = re.compile(r",? but |,? and (?=(?:since|now|then)\b)|, and (?=(?:it|the|they|there)\b)")


def sentences(text: str) -> list[str]:
    # Mail clients wrap lines mid-sentence: rejoin each paragraph before splitting sentences.
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    found = (s.strip() for p in paragraphs for s in _SENTENCE.split(p))
    return [s for s in (_LEAD_IN.sub("", s, count=1) for s in found if s) if s]


def _score(index: int, sentence: str) -> float:
    """Complaint words, a fact (a number, an amount), an early place; less for a stance or a threat."""
    words = len(_COMPLAINT_WORDS.findall(sentence))
    if not words:
        return 0
    named = any(p.search(sentence) for kind, p in _PROBLEMS.items() if kind != "repeated")
    return (words + (1 if _FACT.search(sentence) else 0) + (0.5 if index < 3 else 0) + (1.5 if named else 0)
            - (2 if _STANCE.search(sentence) else 0) - (1 if len(sentence) < 40 else 0))


def problem_sentence(text: str) -> str | None:
    """The sentence that says most plainly what went wrong, in the customer's words; never one
    that asks for something (an ask is answered, not quoted back) or a question."""
    scored = [(i, s, _score(i, s)) for i, s in enumerate(sentences(text))
              if 20 <= len(s) <= 260 and not s.endswith((":", "?")) and not is_ask(s) and not _DEMAND.search(s)]
    ranked = sorted((x for x in scored if x[2] > 0), key=lambda x: (-x[2], x[0]))
    if not ranked:
        return None
    best = ranked[0][1]
    split = _CLAUSE.search(best)
    before, but, after = (best[:split.start()], split.group(0), best[split.end():]) if split else (best, "", "")
    if (but and not _COMPLAINT_WORDS.search(before) and _COMPLAINT_WORDS.search(after)
            and after.split(" ", 1)[0].lower() in _CLAUSE_STARTS):
        best = after[:1].upper() + after[1:]  # "Love the design, but the print faded": the problem comes after
    return best


# The customer's "I" is the reader's "you"; their "you" is our "we", or "us" after a verb or a
# preposition ("they told you" → "they told us"). Words in quotation marks are someone's own.
_TURN = {
    "i'm": "you're", "i've": "you've", "i'd": "you'd", "i'll": "you'll", "i am": "you are", "i was": "you were",
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself",
    "we're": "you're", "we've": "you've", "we'd": "you'd", "we'll": "you'll", "we are": "you are",
    "we were": "you were", "we": "you", "us": "you", "our": "your", "ours": "yours", "ourselves": "yourselves",
    "you're": "we're", "you've": "we've", "you'll": "we'll", "you'd": "we'd", "you are": "we are",
    "you were": "we were", "your": "our", "yours": "ours", "yourself": "ourselves", "yourselves": "ourselves",
}
_PRONOUN = re.compile(r"[\"“][^\"”\n]{0,200}[\"”]|(?<![\w'’])'[^'\n]{0,200}'(?![\w'’])|"
                      r"\b(?:(?:i|we|you)[’'](?:m|ve|d|ll|re)|(?:i|we|you) (?:am|are|was|were)|i|me|my|mine|myself|"
                      r"we|us|our|ours|ourselves|you|your|yours|yourself|yourselves|here)\b", re.I)
_OBJECT_AFTER = re.compile(r"\b(?:to|for|with|from|at|of|by|about|than|like|on|in|into|onto|over|against|without|"
                           r"towards?|upon|told|asked|sent|gave|called|emailed|rang|"
                           r"contacted|promised|charged|paid|owe|let|thank|thanked|show|showed|tell|give|send|help|"
                           r"helped|pay|assured|informed|reminded|warned|offered|left|keep|kept|make|made)\s*$", re.I)
_STARTERS = {"the", "this", "that", "these", "those", "it", "its", "it's", "there", "since", "after", "when", "on",
             "in", "at", "for", "last", "yesterday", "today", "everything", "nothing", "nobody", "both", "two",
             "three", "a", "an", "all", "every", "each", "some", "one", "tracking", "boarding", "again", "then",
             "still", "now", "because", "although", "despite", "during", "before", "until", "once", "while", "being",
             "order", "parcel", "package", "delivery", "invoice", "booking", "ticket", "account", "payment", "item",
             "box", "app", "website", "phone", "card", "bill", "engineer", "driver", "staff", "nothing", "none"}
_CLAUSE_STARTS = _STARTERS | set(_TURN)  # a clause that starts with one of these has its own subject


_NO_SUBJECT = re.compile(r"(?:went|got|had|bought|ordered|paid|took|came|booked|tried|called|rang|sent|received|"
                         r"arrived|waited|spent|made)\b")
_AFTERTHOUGHT = re.compile(r"[\s,;-]{0,3}(?:haha|hah|lol|:-?\)|;-?\)|xx?)[\s.!]{0,3}$", re.I)
_CONJUNCTION = re.compile(r"^(?:but|and|so|also|plus|anyway),?\s+(?=\w)", re.I)


def _turned(match: re.Match, sentence: str) -> str:
    word = match.group(0)
    if word[0] in "\"“'":
        return word  # quoted: their words, or someone else's
    key = word.lower().replace("’", "'")
    if key == "you":
        turned = "us" if _OBJECT_AFTER.search(sentence[max(0, match.start() - 30):match.start()]) else "we"
    elif key == "here":
        turned = "there"
    else:
        turned = _TURN.get(key, word)
    return turned.capitalize() if match.start() == 0 else turned


def in_our_words(sentence: str, text: str = "") -> str:
    """``sentence`` spoken back to its writer, as a clause to follow "I'm sorry that": pronouns
    turned, the first word lower-cased unless it is a name, the final full stop dropped."""
    sentence = _CONJUNCTION.sub("", sentence, count=1)
    if _NO_SUBJECT.match(sentence):
        sentence = "I " + sentence
    sentence = _AFTERTHOUGHT.sub("", sentence)
    turned = _PRONOUN.sub(lambda m: _turned(m, sentence), sentence).rstrip(" .!")
    first = turned.split(" ", 1)[0]
    lowered = first.lower()
    is_word = lowered in _STARTERS or lowered in _TURN.values() or re.search(rf"(?<![.!?]\s)\b{re.escape(lowered)}\b",
                                                                            text[:20_000])
    if first[:1].isupper() and first[1:2].islower() and is_word:
        turned = first[:1].lower() + turned[1:]
    return turned.replace('"', "'")


# What kind of problem it is, whatever the category: the reply's next step depends on it.
_PROBLEMS: dict[str, re.Pattern] = {
    "not_arrived": re.compile(r"\b(?:never (?:arrived|came|turned up|received)|(?:hasn't|has not|haven't|have not|didn't|"
                              r"did not|still not) (?:arrived|come|turned up|received|got)|not (?:arrived|received)|"
                              r"nothing (?:here|has arrived|arrived)|received nothing|no sign of|lost in the post|"
                              r"(?:says|said|shows?|marked as) (?:it was |as )?[\"'“]?delivered)", re.I),
    "late": re.compile(r"\b(?:late|delayed|overdue|still waiting|missed (?:the|my|our) (?:slot|window)|"
                       r"(?:arrived|came|turned up) (?:at|after) \d|hours? (?:late|after)|moved from|rescheduled)\b", re.I),
    "spoilt": re.compile(r"\b(?:damaged|broken|smashed|crushed|cracked|chipped|dented|defrosted|thawed|melted|spoil(?:t|ed)|"
                         r"mouldy|moldy|rotten|inedible|turned to slime|soft all the way|smelled off|leaking|torn|ripped)\b",
                         re.I),
    "wrong_item": re.compile(r"\b(?:wrong (?:item|size|colou?r|product|one|model)|not what i ordered|a different (?:item|"
                             r"product|size|colou?r))\b", re.I),
    "charged_twice": re.compile(r"\b(?:charged (?:me )?twice|double[- ]?charged|taken twice|two payments|duplicate "
                                r"(?:payment|charge)|charged (?:me )?again|and again on \d)", re.I),
    "locked_out": re.compile(r"\b(?:locked out|can(?:'t|not) (?:log ?in|sign in|get into|access)|(?:don't|do not|didn't) "
                             r"(?:receive|get) the (?:sms|code|text)|banned|suspended|blocked)\b", re.I),
    "repeated": re.compile(r"\b(?:(?:second|third|fourth|fifth|2nd|3rd|4th) (?:time|week|outage|month)|"
                           r"(?:week|day|month)s? running|keeps? (?:happening|failing|crashing|dropping)|"
                           r"(?:happened|happening|broke|broken|failed|charged|taken|down|late|crashed|wrong) again\b|"
                           r"\band again (?:on|last|this|yesterday|today)\b|this has happened before)", re.I),
}


_SAYS_REPEAT = re.compile(r"\b(?:second|third|fourth|fifth|2nd|3rd|4th|5th) time|\btwice\b|\b\w+ times\b", re.I)


def says_repeat(restated: str | None) -> bool:
    """Whether the restatement already says it has happened, or been asked, before."""
    return bool(restated and _SAYS_REPEAT.search(restated))


def problems(text: str) -> tuple[str, ...]:
    """The kinds of problem the text describes (not_arrived, late, spoilt, wrong_item,
    charged_twice, locked_out, repeated), in that order."""
    text = text[:20_000]
    found = [kind for kind, pattern in _PROBLEMS.items() if pattern.search(text)]
    if "not_arrived" in found and "spoilt" in found and not re.search(r"\b(?:never|hasn't|has not|nothing)\b", text, re.I):
        found.remove("not_arrived")  # "not received in good condition": it came, spoilt
    return tuple(found)
