"""Escalation on top of the model: what the text alone cannot know.

The recovery paradox fails for repeat failures: a customer's complaint in a new case, within
the window of an earlier one, goes up one level. A chaser (the customer writing again in the
same case before we answered) is not a repeat: it is recorded, and the queue counts the wait
from the first unanswered message. Complaints from VIP domains go up one level too. All are
recorded as reasons, so reviewers see why a mild mail is marked high.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from .labels import SEVERITIES, Classification


def escalate(
    result: Classification,
    earlier_complaints: int,
    window_days: int,
    sender: str | None,
    vip_domains: Collection[str] = (),
    chasers: int = 0,
) -> Classification:
    if not result.complaint or result.severity is None:
        return result
    reasons = []
    if earlier_complaints:
        cases = "an earlier case" if earlier_complaints == 1 else f"{earlier_complaints} earlier cases"
        reasons.append(f"escalated: repeat complainer ({cases} with a complaint in {window_days} days)")
    domain = sender.rsplit("@", 1)[-1].lower() if sender and "@" in sender else None
    if domain and domain in {d.lower() for d in vip_domains}:
        reasons.append(f"escalated: VIP domain {domain}")
    noted = [f"chaser: message {chasers + 1} from the customer in this case without an answer"] if chasers else []
    if not reasons:
        return replace(result, reasons=[*result.reasons, *noted]) if noted else result
    level = min(SEVERITIES.index(result.severity) + len(reasons), len(SEVERITIES) - 1)
    return replace(result, severity=SEVERITIES[level], reasons=[*result.reasons, *reasons, *noted])
