"""Critical cases from the development tweets, to measure critical recall on real text.

    python classifiers/data/critical_dev.py ../shared/data/complaints-dev/tweets.jsonl > var/critical-dev.jsonl
    amends evaluate --data var/critical-dev.jsonl

The development set has no licence, so only tweet ids are kept here, with the RUBRIC.md reason
each one is critical. They were found by searching its complaints for words of harm, law,
regulators, data and discrimination, then read one by one; wording no search term catches is
therefore under-represented, and the figure flatters word rules somewhat.
"""

from __future__ import annotations

import json
import sys

CRITICAL = {
    "tw-534144167048249344": "injury: glass in a can cut the customer's mouth",
    "tw-668826064873918464": "safety: brakes noisy and a smell of smoke",
    "tw-674619516681363458": "safety: the car cuts out on the road, nearly hit",
    "tw-690680949894463488": "safety: recalled airbag, written to the press",
    "tw-736087714915713024": "safety: car seized while driving",
    "tw-826886230893801472": "safety: a dangerous adapter, recalled, no replacement",
    "tw-898231616627240961": "safety: trees leaning on a power line",
    "tw-903599693170606080": "legal: about to involve attorneys",
    "tw-916159665184149504": "safety: a burning air unit in a hotel room",
    "tw-935313130875387904": "data: a possible data breach",
    "tw-940735159619514368": "legal: going to a labour lawyer",
    "tw-940941605439188992": "regulator: complained to the FTC",
    "tw-952966497797844992": "discrimination: against people with disabilities",
    "tw-958748157915082753": "safety: an engineer driving dangerously",
    "tw-959134427161952256": "safety: a dangerous car park",
}


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record["id"] in CRITICAL:
                print(json.dumps({"id": record["id"], "text": record["text"], "complaint": True,
                                  "severity": "critical", "why": CRITICAL[record["id"]]}))


if __name__ == "__main__":
    main()
