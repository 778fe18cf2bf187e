"""Praise and thanks: their own label, never a complaint.

A thank-you note that names a colleague reads to a bag-of-words model like a complaint ("the
parcel was late but Priya sorted it"), and an apology sent back to it, with leadership alerted,
is worse than silence. These rules only ever take a message *out* of the complaints, so they
are strict: clear praise, and nothing that still asks for something or still hurts. A
complaint wrongly called praise would go unheard, so any sign of an open problem keeps it a
complaint. Linear patterns only.
"""

from __future__ import annotations

import re

MAX_CHARS = 20_000

_PRAISE = re.compile(
    r"\b(?:thank you so much|thanks so much|huge thanks|a big thank you|many thanks for|(?:just )?(?:wanted|writing|a (?:quick )?"
    r"note) to (?:say|thank|let you know)|(?:was|were|has been|have been|is|are|'s|’s) (?:absolutely |really |so |incredibly |"
    r"truly |just )?(?:wonderful|brilliant|amazing|fantastic|excellent|superb|outstanding|so helpful|incredibly helpful|"
    r"lovely|a star|a credit to|perfect|spot on)|above and beyond|credit to (?:your|the) (?:team|company)|compliments? to|"
    r"shout[- ]?out to|(?:please )?pass on (?:my|our) thanks|keep up the (?:good|great) work|couldn't have been (?:more )?"
    r"helpful|made (?:my|our) day|merci beaucoup|un grand merci|vraiment (?:parfait|génial|formidable))",
    re.I)
# Anything still wrong or still wanted: then it is not praise, whatever else it says.
_OPEN_PROBLEM = re.compile(
    r"\b(?:but|however|although|though|unfortunately|disappoint\w*|not happy|unhappy|complain\w*|unacceptable|refund|"
    r"still (?:waiting|no|not|hasn't|haven't)|never (?:arrived|came|received)|broken|damaged|faulty|rude|wrong|late|"
    r"missing|overcharged|charged|cancel\w*|one small thing|only (?:thing|issue|problem|complaint)|shame|pity|"
    r"please (?:fix|sort|refund|send|call|cancel|check)|could you|can you|would you|why|apart|fell|broke|stopped|"
    r"crash\w*|leak\w*|fail\w*|error|lost|waited|on hold|"
    r"(?:thanks|thank you)(?: so much)? for (?:making|nothing|ruining|ignoring|wasting|losing|breaking|letting)|"
    r"mais|cependant|malheureusement)\b",
    re.I)
# "Priya was wonderful", "thanks to Priya", "Priya went above and beyond": who should hear it.
_NAMED = re.compile(
    r"\b(?i:thanks(?: so much)? to|thank you(?: so much)? to|thank|grateful to|shout[- ]?out to|compliments to) "
    r"(?P<a>[A-Z][a-z]{1,20})\b|"
    r"\b(?P<b>[A-Z][a-z]{1,20}) (?:(?:on|at|in|from) (?:the |your |our )?[a-z]+(?: [a-z]+)? )?(?:was|has been|went|is) (?:absolutely |really |so |"
    r"incredibly |truly |just )?(?:wonderful|brilliant|amazing|fantastic|excellent|superb|outstanding|so helpful|"
    r"incredibly helpful|lovely|a star|above and beyond|kind|patient)")
_NOT_A_NAME = {"It", "This", "That", "Everything", "Everyone", "Delivery", "Service", "The", "Your", "Our", "He", "She",
               "They", "We", "You", "Team", "Staff", "Support", "Thanks", "Thank", "Nothing", "Setup", "Installation"}


def praise(text: str) -> str | None:
    """The words that make ``text`` praise or thanks, or None (also when a problem is still open)."""
    text = text[:MAX_CHARS]
    found = _PRAISE.search(text)
    if not found or _OPEN_PROBLEM.search(text):
        return None
    return found.group(0)


def praised_colleague(text: str) -> str | None:
    """The first name of the colleague the customer praises, when they name one."""
    for match in _NAMED.finditer(text[:MAX_CHARS]):
        name = match.group("a") or match.group("b")
        if name not in _NOT_A_NAME:
            return name
    return None
