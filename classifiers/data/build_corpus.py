"""Build ``corpus.jsonl``: labelled support mail for training and evaluating Amends.

    python classifiers/data/build_corpus.py [--count 4200] [--seed 7]

Every fragment (in ``fragments.json``) was written for Amends. A message is composed from one *situation*
(what happened, in several phrasings, with slots for the industry's items and references) and
the parts that set its tone and severity, following RUBRIC.md: softeners for ``low``,
annoyance for ``medium``, repetition, money lost, threats to leave or anger for ``high``, and
legal, safety, data, regulator, vulnerable-customer or discrimination lines for ``critical``.
Styles vary the surface: full emails, one-line posts, reviews, typos, lower case, shouting and
non-native English. ``group`` is the situation, so an evaluation split by group shows how the
model does on situations it never saw. Seeded: the same arguments give the same file.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).parent

FRAGMENTS = json.loads((HERE / "fragments.json").read_text(encoding="utf-8"))
(ASKS, COMPLAINTS, CONTEXT, CRITICAL, CRITICAL_FIT, CURRENCIES, DAYS, GREETINGS, HIGH_ANGER, HIGH_LEAVE, HIGH_MONEY,
 HIGH_REPEAT, INDUSTRIES, LOW, MEDIUM, MONTHS, NAMES, NON_COMPLAINTS, NON_NATIVE, SIGNOFFS, SPANS) = (
    FRAGMENTS[name] for name in ("ASKS", "COMPLAINTS", "CONTEXT", "CRITICAL", "CRITICAL_FIT", "CURRENCIES", "DAYS",
                                 "GREETINGS", "HIGH_ANGER", "HIGH_LEAVE", "HIGH_MONEY", "HIGH_REPEAT", "INDUSTRIES",
                                 "LOW", "MEDIUM", "MONTHS", "NAMES", "NON_COMPLAINTS", "NON_NATIVE", "SIGNOFFS", "SPANS"))


class Filler:
    """Fills slots for one message: the same item, reference and amount wherever they recur."""

    def __init__(self, rng: random.Random, industry: str) -> None:
        vocab = INDUSTRIES[industry]

        def number(digits: int) -> str:
            return str(rng.randint(10 ** (digits - 1), 10**digits - 1))

        ref = rng.choice(vocab["ref"]).format(
            n4=number(4), n5=number(5), n6=number(6), n8=number(8),
            w=rng.choice(["acme", "orbit", "delta-co", "brightside"]),
            REF="".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6)),
            FL=f"{rng.choice(['AN', 'BC', 'SK', 'MW'])}{number(3)}",
            flat=f"{rng.randint(1, 40)}{rng.choice('ABCD')}", day=rng.choice(DAYS),
        )
        amount = rng.choice(CURRENCIES).format(
            a=rng.choice(["14.99", "85", "1,240.00", "49", "230", "9.50", "600", "37.20", "2,000"])
        )
        self.values = {
            "item": rng.choice(vocab["item"]), "staff": rng.choice(vocab["staff"]),
            "service": rng.choice(vocab["service"]), "brand": rng.choice(vocab["brand"]),
            "amount": amount, "day": rng.choice(DAYS), "days": rng.choice(SPANS),
            "month": rng.choice(MONTHS), "INV": f"INV-2026-{number(4)}", "ref": ref,
        }

    def __call__(self, text: str) -> str:
        text = re.sub(r"\{(\w+)\}", lambda m: self.values.get(m.group(1), m.group(0)), text)
        return text[0].upper() + text[1:] if text else text


def typos(text: str, rng: random.Random, rate: float) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and rng.random() < rate:
            j = rng.randrange(1, len(word) - 1)
            op = rng.choice(("swap", "drop", "double"))
            if op == "swap":
                word = word[:j - 1] + word[j] + word[j - 1] + word[j + 1:]
            elif op == "drop":
                word = word[:j] + word[j + 1:]
            else:
                word = word[:j] + word[j] + word[j:]
            words[i] = word
    return " ".join(words)


def style(body: str, subject: str, kind: str, rng: random.Random) -> tuple[str, str]:
    if kind == "typos":
        body = typos(body, rng, 0.12)
    elif kind == "lower":
        body, subject = body.lower().replace(".", ""), subject.lower()
    elif kind == "nonnative":
        for pattern, repl in NON_NATIVE:
            if rng.random() < 0.6:
                body = re.sub(pattern, repl, body)
        body = body.lower()
    elif kind == "shout":
        sentences = body.split(". ")
        k = rng.randrange(len(sentences))
        sentences[k] = sentences[k].upper()
        body = ". ".join(sentences)
    return body, subject


def compose_complaint(rng: random.Random, category: str, situation: tuple, severity: str, industry: str) -> dict:
    sid, _, base, subjects, phrasings = situation
    fill = Filler(rng, industry)
    chosen = rng.sample(phrasings, 2 if rng.random() < 0.3 and len(phrasings) > 1 else 1)
    core = [fill(p) for p in chosen]
    tone: list[str] = []
    reasons: list[str] = []
    if severity == "low":
        tone.append(rng.choice(LOW))
    elif severity == "medium":
        if rng.random() < 0.7:
            tone.append(rng.choice(MEDIUM))
    elif severity == "high":
        pools = [HIGH_REPEAT, HIGH_MONEY, HIGH_LEAVE, HIGH_ANGER]
        for pool in rng.sample(pools, rng.choice([1, 1, 2, 2, 3])):
            tone.append(fill(rng.choice(pool)))
    elif severity == "critical" and base != "critical":
        kinds = [k for k, fit in CRITICAL_FIT.items() if fit is None or category in fit]
        kind = rng.choice(kinds)
        reasons.append(kind)
        tone.append(rng.choice(CRITICAL[kind]))
        if rng.random() < 0.4:
            tone.append(rng.choice(HIGH_ANGER + HIGH_LEAVE))
    form = rng.choices(["email", "short", "review", "post"], weights=[60, 18, 10, 12])[0]
    brand = fill.values["brand"]
    subject = fill(rng.choice(subjects))
    if form == "email":
        parts = [fill(rng.choice(GREETINGS))]
        parts.append(fill(rng.choice(CONTEXT)))
        parts.append(" ".join(core + tone[:1]))
        if tone[1:]:
            parts.append(" ".join(tone[1:]))
        parts.append(rng.choice(ASKS))
        signoff = rng.choice(SIGNOFFS)
        name = rng.choice(NAMES)
        parts.append(f"{signoff}\n{name}" if signoff else name if rng.random() < 0.7 else "")
        body = "\n\n".join(p for p in parts if p)
    elif form == "short":
        body = " ".join(core[:1] + tone)
    elif form == "review":
        stars = {"low": "3/5", "medium": "2/5", "high": "1/5", "critical": "1/5"}[severity]
        body = f"{rng.choice([stars, stars + ' stars', 'Rating: ' + stars])}. " + " ".join(core + tone)
        subject = rng.choice(["Review", f"Review of {brand}", subject])
    else:
        handle = "@" + brand.replace(" ", "").replace("&", "and")
        body = f"{handle} " + " ".join(core[:1] + tone) + rng.choice(["", " #fail", " #customerservice", " smh", ""])
        subject = ""
    kind = rng.choices(["plain", "typos", "lower", "nonnative", "shout"], weights=[62, 12, 10, 10, 6])[0]
    if kind == "shout" and severity == "low":
        kind = "plain"
    body, subject = style(body, subject, kind, rng)
    return {"subject": subject, "body": body, "complaint": True, "severity": severity,
            "category": category, "group": sid, "industry": industry, "style": f"{form}/{kind}"}


def compose_other(rng: random.Random, situation: tuple, industry: str) -> dict:
    sid, kind, _, subjects, phrasings = situation
    fill = Filler(rng, industry)
    core = fill(rng.choice(phrasings))
    form = rng.choices(["email", "short"], weights=[75, 25])[0]
    subject = fill(rng.choice(subjects))
    if kind in ("bulk", "spam"):
        form = "email"
    if form == "email":
        signoff = rng.choice(SIGNOFFS + ["Best wishes,", "Many thanks,"])
        parts = [fill(rng.choice(GREETINGS)), core,
                 rng.choice(["", "", "Thanks!", "Have a nice day.", "Let me know."]),
                 f"{signoff}\n{rng.choice(NAMES)}" if signoff else ""]
        body = "\n\n".join(p for p in parts if p)
    else:
        body = core
    style_kind = rng.choices(["plain", "typos", "lower", "nonnative"], weights=[70, 12, 10, 8])[0]
    body, subject = style(body, subject, style_kind, rng)
    return {"subject": subject, "body": body, "complaint": False, "severity": None, "category": None,
            "group": sid, "industry": industry, "style": f"{form}/{style_kind}", "kind": kind}


def build(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    records = []
    n_complaints = int(count * 0.62)
    situations = [(cat, s) for cat, items in COMPLAINTS.items() for s in items]
    for i in range(n_complaints):
        category, situation = situations[i % len(situations)]
        base = situation[2]
        if base == "critical":
            severity = "critical"
        elif base == "high":
            severity = rng.choices(["high", "critical"], weights=[80, 20])[0]
        elif base == "low":
            severity = rng.choices(["low", "medium", "high", "critical"], weights=[55, 15, 20, 10])[0]
        else:
            severity = rng.choices(["medium", "high", "critical"], weights=[50, 35, 15])[0]
        industry = rng.choice(situation[1])
        records.append(compose_complaint(rng, category, situation, severity, industry))
    for i in range(count - n_complaints):
        situation = NON_COMPLAINTS[i % len(NON_COMPLAINTS)]
        records.append(compose_other(rng, situation, rng.choice(situation[2])))
    rng.shuffle(records)
    for i, record in enumerate(records):
        record["id"] = f"c{i:05d}"
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=4200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(HERE / "corpus.jsonl"))
    args = parser.parse_args()
    records = build(args.count, args.seed)
    with open(args.out, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} records to {args.out}")


if __name__ == "__main__":
    main()
