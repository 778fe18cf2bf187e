"""Which conversation a message belongs to: headers first, then customer and subject."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from ..config import DEFAULT_MAILBOX
from ..store import Store, iso

_PREFIX = re.compile(
    r"^\s*((re|aw|sv|vs|antw|odp|rif|res|r|fwd?|wg|tr|enc|rv|doorst)(\[\d+\]|\(\d+\))?\s*[:：]\s*"
    r"|\[(external|ext|extern)\]\s*)",
    re.IGNORECASE,
)


def normalize_subject(subject: str) -> str:
    """"Re: AW: Fwd: Order late" and "order late" are one thread."""
    previous = None
    subject = subject or ""
    while previous != subject:
        previous = subject
        subject = _PREFIX.sub("", subject)
    return " ".join(subject.split()).casefold()


def assign_conversation(
    store: Store, thread_ids: Sequence[str], subject: str, customer: str | None, at: datetime, window_days: int,
    box: str = DEFAULT_MAILBOX,
) -> int:
    """Join the conversation a message answers (``thread_ids``, the closest first), else the
    customer's recent one on the same subject in the same mailbox, else start one there. Call
    inside the transaction that saves the message."""
    when = iso(at)
    conversation = store.conversation_of(thread_ids)
    subject_key = normalize_subject(subject)
    if conversation is None and customer and subject_key:
        since = iso(at - timedelta(days=window_days))
        conversation = store.conversation_by_subject(customer, subject_key, since, box)
    if conversation is None:
        return store.new_conversation(customer, subject_key, when, box)
    store.touch_conversation(conversation, when)
    return conversation
