"""Replies the team sent from another mail client (Outlook, Gmail, Apple Mail) while Amends runs.

Teams keep answering from their usual client. A case answered that way must not keep a
pending draft: approving it would send the customer a second reply. The worker reads the
mailbox's Sent folder (headers only); a message there that threads into a case and is not
one of ours joins the case as a reply from us, by the person named in its From, and the open
draft is superseded with that reason, which the draft page and `amends drafts show` give.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from ..mail.parse import UnparseableMessage, parse_message
from ..store import Store, iso

log = logging.getLogger(__name__)


@dataclass
class Elsewhere:
    seen: int = 0
    recorded: int = 0  # replies that joined a case
    superseded: int = 0  # drafts they made unnecessary


def record_replies(store: Store, headers: list[bytes], now: datetime) -> Elsewhere:
    """Each Sent message (its header) that answers a case from outside Amends, recorded; call
    inside the transaction that advances the Sent folder's cursor."""
    counts = Elsewhere()
    for raw in headers:
        counts.seen += 1
        try:
            sent = parse_message(raw)
        except UnparseableMessage:
            continue
        if not sent.message_id or store.has_message_id(sent.message_id):
            continue  # ours (Amends files its replies in Sent too), or seen already
        conversation = store.conversation_of([i for i in (sent.in_reply_to, *reversed(sent.references)) if i])
        if conversation is None:
            continue  # not a reply to a case: the team's own mail
        who = sent.from_name or sent.from_addr or "someone"
        when = sent.date or now
        store.record_outbound(message_id=sent.message_id, from_addr=sent.from_addr or "", from_name=who,
                              to_addr=sent.to[0] if sent.to else "", subject=sent.subject,
                              text="(sent from another mail client)", conversation_id=conversation, now=when)
        counts.recorded += 1
        draft = store.open_draft(conversation)
        if draft and draft["created_at"] <= iso(when):
            reason = f"answered from another mail client by {who} at {when:%d %b %H:%M} UTC"
            store.update_draft(draft["id"], state="superseded", reject_reason=reason, updated_at=iso(now))
            store.keep_commitments(conversation, draft["id"], now)
            store.audit("amends", "answered elsewhere", "draft", draft["id"], {"by": who, "message_id": sent.message_id},
                        now)
            log.info("draft %s: %s", draft["id"], reason)
            counts.superseded += 1
    return counts
