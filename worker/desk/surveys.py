"""Satisfaction surveys: signed links, and scores read from replies. Pure functions.

A survey link names one survey and one score, signed with the secret key and timestamped:
it cannot be forged, moved to another survey, or used after it expires.
"""

from __future__ import annotations

import re

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "amends-survey"
SCORES = (1, 2, 3, 4, 5)
LABELS = {1: "Very dissatisfied", 2: "Dissatisfied", 3: "Neither", 4: "Satisfied", 5: "Very satisfied"}
# The survey page's words. A language's phrases.toml may give its own in a [survey] table.
PAGE = {
    "title": "How did we do?",
    "chosen": "You chose",
    "score": "{score} of 5: {label}",
    "comment": "Anything you would like to add? (optional)",
    "send": "Send my answer",
    "thanks": "Thank you",
    "recorded": "Your answer is recorded. Everyone at {company} who worked on this will see it.",
    "already": "We already have your answer for this survey.",
    "sorry": "Sorry",
    "invalid": "This survey link is not valid. Please use the link from our email.",
    "expired": "This survey link has expired. Thank you all the same; just reply to our email.",
}


def survey_words(phrases: dict | None) -> tuple[dict[int, str], dict[str, str]]:
    """The score labels and the page's words in the customer's language: the language's
    ``[survey]`` phrases over the English ones."""
    table = (phrases or {}).get("survey", {})
    labels = dict(zip(SCORES, table["labels"])) if "labels" in table else LABELS
    return labels, {key: table.get(key, text) for key, text in PAGE.items()}


class SurveyLinkError(ValueError):
    """A survey link that is forged, damaged or expired; ``reason`` ("invalid" or "expired")
    names the page's words for it."""

    def __init__(self, reason: str) -> None:
        super().__init__(PAGE[reason])
        self.reason = reason


def make_token(secret: str, survey_id: int, score: int) -> str:
    return URLSafeTimedSerializer(secret, salt=SALT).dumps({"s": survey_id, "c": score})


def read_token(secret: str, token: str, max_age_days: int) -> tuple[int, int]:
    try:
        data = URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=max_age_days * 86400)
    except SignatureExpired:
        raise SurveyLinkError("expired") from None
    except BadSignature:
        raise SurveyLinkError("invalid") from None
    if not isinstance(data, dict) or data.get("c") not in SCORES or not isinstance(data.get("s"), int):
        raise SurveyLinkError("invalid")
    return data["s"], data["c"]


_WORDS = [  # English and French, the languages Amends writes in
    (re.compile(r"\b(very|extremely|totally|completely)\s+(dis|un)satisfied\b|\bterrible\b|\bawful\b"
                r"|\btrès\s+(insatisfaite?|mécontente?|déçue?)\b|\bnul(le)?\b|\bhorrible\b", re.I), 1),
    (re.compile(r"\b(dis|un)satisfied\b|\bnot (very )?(happy|satisfied)\b|\bpoor\b"
                r"|\binsatisfaite?\b|\bpas (très |vraiment )?(satisfaite?|contente?)\b|\bmécontente?\b|\bdéçue?\b", re.I), 2),
    (re.compile(r"\bneutral\b|\bokay\b|\bok\b|\bneither\b|\bneutre\b|\bmoyen\b|\bbof\b", re.I), 3),
    (re.compile(r"\b(very|extremely|really)\s+(satisfied|happy)\b|\bexcellent\b|\bperfect\b"
                r"|\btrès\s+(satisfaite?|contente?)\b|\bparfait\b|\bexcellente?\b", re.I), 5),
    (re.compile(r"\bsatisfied\b|\bhappy\b|\bgood\b|\bsatisfaite?\b|\bcontente?\b", re.I), 4),
]
_NUMBER = re.compile(r"^\s*(?:score:?\s*)?([1-5])\s*(?:/\s*5|out of 5|stars?|\*)?\s*(?:[-–:,.!]|$)", re.I)


def parse_score(text: str) -> int | None:
    """A CSAT score from a reply such as "5", "4/5", "very satisfied"; None when unclear."""
    first = next((line for line in text.strip().splitlines() if line.strip()), "")
    if len(first) > 120:
        return None
    match = _NUMBER.match(first)
    if match:
        return int(match.group(1))
    for pattern, score in _WORDS:
        if pattern.search(first):
            return score
    return None
