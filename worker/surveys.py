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


class SurveyLinkError(ValueError):
    """A survey link that is forged, damaged or expired; the message is shown to the customer."""


def make_token(secret: str, survey_id: int, score: int) -> str:
    return URLSafeTimedSerializer(secret, salt=SALT).dumps({"s": survey_id, "c": score})


def read_token(secret: str, token: str, max_age_days: int) -> tuple[int, int]:
    try:
        data = URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=max_age_days * 86400)
    except SignatureExpired:
        raise SurveyLinkError("This survey link has expired. Thank you all the same; just reply to our email.") from None
    except BadSignature:
        raise SurveyLinkError("This survey link is not valid. Please use the link from our email.") from None
    if not isinstance(data, dict) or data.get("c") not in SCORES or not isinstance(data.get("s"), int):
        raise SurveyLinkError("This survey link is not valid. Please use the link from our email.")
    return data["s"], data["c"]


_WORDS = [
    (re.compile(r"\b(very|extremely|totally|completely)\s+(dis|un)satisfied\b|\bterrible\b|\bawful\b", re.I), 1),
    (re.compile(r"\b(dis|un)satisfied\b|\bnot (very )?(happy|satisfied)\b|\bpoor\b", re.I), 2),
    (re.compile(r"\bneutral\b|\bokay\b|\bok\b|\bneither\b", re.I), 3),
    (re.compile(r"\b(very|extremely|really)\s+(satisfied|happy)\b|\bexcellent\b|\bperfect\b", re.I), 5),
    (re.compile(r"\bsatisfied\b|\bhappy\b|\bgood\b", re.I), 4),
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
