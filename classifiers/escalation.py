"""Escalation on top of the model: what the text alone cannot know.

The recovery paradox fails for repeat failures: a customer's second complaint within the
window goes up one level. Complaints from VIP domains go up one level too. Both are recorded
as reasons, so reviewers see why a mild mail is marked high.
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
) -> Classification:
    if not result.complaint or result.severity is None:
        return result
    reasons = []
    if earlier_complaints:
        reasons.append(f"escalated: repeat complainer ({earlier_complaints} earlier complaint(s) in {window_days} days)")
    domain = sender.rsplit("@", 1)[-1].lower() if sender and "@" in sender else None
    if domain and domain in {d.lower() for d in vip_domains}:
        reasons.append(f"escalated: VIP domain {domain}")
    if not reasons:
        return result
    level = min(SEVERITIES.index(result.severity) + len(reasons), len(SEVERITIES) - 1)
    return replace(result, severity=SEVERITIES[level], reasons=[*result.reasons, *reasons])
