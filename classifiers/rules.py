"""What must never be missed: rules that raise a complaint to critical on top of the model.

A linear model can be talked out of "my solicitor" by a long, polite mail; these cannot. Each
hit says what it found, and that text goes into the reasons shown to reviewers.
"""

from __future__ import annotations

import re

RULES: dict[str, re.Pattern] = {
    "legal threat": re.compile(
        r"\b(solicitors?|lawyers?|attorneys?|legal action|sue (you|them)|suing|lawsuit|small claims"
        r"|letter before action|court action|take you to court)\b", re.I),
    "injury or safety": re.compile(
        r"\b(injur(ed|y|ies)|burn(ed|t) (my|his|her|their|our)|caught fire|on fire|sparked|electric shock"
        r"|hospital|a&e|ambulance|stitches|allergic reaction|anaphyla\w+|food poisoning|choking|unsafe"
        r"|carbon monoxide|gas leak|poisoned|hurt (my|his|her|their) (back|head|neck|arm|leg|hand)"
        r"|dangerous(ly)?|hazard(ous)?|(almost|nearly) (die|died|killed|crashed)|could have (died|been killed)"
        r"|smell of smoke|smoke (smell|coming)|burning (smell|unit|plug|wire)|(glass|metal|plastic) in (my|the|a|one)"
        r"|(cut|sliced) (my|his|her) (mouth|hand|finger|lip)|air ?bags?|safety recall|recalled for safety|bed ?bugs"
        r"|(wrong|someone else'?s|another (patient|person|customer)'?s) (medication|medicine|prescription|pills|dose)"
        r"|limp mode|hard shoulder|(brakes?|steering) (failed|failing|locked|gave way)"
        r"|lost (all )?power (on|at|in) the (motorway|dual carriageway|fast lane|road))\b",
        re.I),
    "data breach": re.compile(
        r"\b(data breach|breach of (data|privacy)|someone else'?s (account|data|details|orders)"
        r"|another customer'?s|stranger'?s (bank )?details|my (personal )?(data|details) (to|with) (a )?(stranger|third part)"
        r"|gdpr|data protection (law|act)|exposed my|leaked my|hacked"
        r"|(statement|letter|details|documents|records|post) to (my ex|the wrong (address|person)|someone else|a stranger))\b",
        re.I),
    "regulator or press": re.compile(
        r"\b(ombudsman|regulator|information commissioner|ico\b|trading standards|fca\b|ofcom|ofgem|cfpb|ftc\b|fcc\b"
        r"|attorney general|consumer protection (agency|bureau|office)"
        r"|better business bureau|bbb\b|going to the (press|media)|journalist friend|contact(ed)? the (press|media))", re.I),
    "vulnerable customer": re.compile(
        r"\b(disabled|disability|wheelchair|elderly|dementia|chemotherapy|cancer|dialysis|pregnant"
        r"|newborn|baby|infant|blind|deaf|terminal(ly)? ill|\d{2}-year-old (father|mother|mum|dad)|\d+-(week|month)-old)\b", re.I),
    "discrimination": re.compile(
        r"\b(racis[tm]|racial(ly)? (slur|abuse|abused)|slur|discriminat\w+|sexis[tm]|homophob\w+|because (i'?m|i am) (black|gay|a woman|muslim|jewish|disabled))\b", re.I),
}


# One pass to rule out the common case of no hit at all.
_ANY = re.compile("|".join(f"(?:{p.pattern})" for p in RULES.values()), re.I)


def critical_hits(text: str) -> list[tuple[str, str]]:
    """(rule, the words that matched) for every rule the text trips."""
    if not _ANY.search(text):
        return []
    hits = []
    for name, pattern in RULES.items():
        match = pattern.search(text)
        if match:
            hits.append((name, match.group(0)))
    return hits
