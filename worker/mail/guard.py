"""Is this mail from a machine? Answering one is how mail loops start.

``automated_reason`` returns a short reason (shown to people and stored) or ``None`` for mail a
person wrote. Header evidence comes first because it is reliable; subject patterns are a last
resort for auto-responders that set no header at all.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from .parse import AUTO_RESPONDER_HEADERS, ParsedMessage

_ROBOT_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|auto-?reply|autoresponder"
    r"|mail-?delivery-?(system|subsystem)?)(\+[^@]*)?@",
    re.IGNORECASE,
)
_ROBOT_SUBJECTS = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?(reply|response)|out of (the )?office|abwesenheitsnotiz"
    r"|réponse automatique|respuesta automática|undeliverable|undelivered mail|delivery status"
    r" notification|mail delivery (failed|failure|system)|returned mail|delivery failure"
    r"|failure notice|message not delivered|non remis|unzustellbar|i am (currently )?away"
    r"|on vacation|vacation reply|read:|gelesen:)",
    re.IGNORECASE,
)


def automated_reason(
    msg: ParsedMessage,
    own_addresses: Collection[str] = (),
    recent_from_sender: int = 0,
    sender_limit_per_hour: int = 0,
) -> str | None:
    auto = msg.header("auto-submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    if msg.content_type == "multipart/report":
        return "delivery or read report (multipart/report)"
    precedence = msg.header("precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("list-id", "list-unsubscribe"):
        if msg.header(name):
            return f"mailing list ({name.title()})"
    for name in AUTO_RESPONDER_HEADERS:
        if msg.header(name):
            return f"auto-responder header ({name})"
    if "return-path" in msg.headers and msg.header("return-path").strip() in ("<>", ""):
        return "empty Return-Path (bounce)"
    sender = msg.from_addr or ""
    if not sender:
        return "no sender address"
    if _ROBOT_SENDERS.match(sender):
        return f"system sender ({sender})"
    if sender in own_addresses or any(a.lower() == sender for a in own_addresses):
        return "sent from our own address"
    if _ROBOT_SUBJECTS.match(msg.subject):
        return f"auto-reply subject ({msg.subject[:40]!r})"
    return rate_reason(sender, recent_from_sender, sender_limit_per_hour)


def rate_reason(sender: str, recent: int, limit: int) -> str | None:
    """A person does not write ``limit`` mails an hour; a misconfigured robot does."""
    if limit and recent >= limit:
        return f"more than {limit} messages from {sender} in an hour"
    return None
