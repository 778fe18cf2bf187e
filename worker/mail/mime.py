"""Our replies as RFC 5322 bytes: threaded into the customer's conversation, safe headers.

Pure: takes the customer's message and the approved text, returns bytes. Every header value
that came from the outside world (names, subjects) is stripped of line breaks and control
characters first, and Python's email policy refuses any that slip through, so no one can
inject a header (a Bcc, say) through a crafted name or subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from markupsafe import Markup, escape

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|antw|odp|rif|res|r)(\[\d+\])?\s*[:：]\s*)+", re.I)
MAX_REFERENCES = 10


class HeaderError(ValueError):
    pass


def clean_header(value: str | None) -> str:
    return " ".join(_CONTROL.sub(" ", value or "").split())


def reply_subject(original: str) -> str:
    """'Re: ' once, however many reply prefixes the thread has collected."""
    base = _REPLY_PREFIX.sub("", clean_header(original))
    return f"Re: {base}" if base else "Re: your message"


def reply_references(refs: list[str] | tuple[str, ...], message_id: str | None) -> list[str]:
    """The chain plus the message we answer, trimmed as RFC 5322 suggests: first and last."""
    chain = [r for r in refs if r] + ([message_id] if message_id else [])
    chain = list(dict.fromkeys(chain))
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1):]
    return chain


def new_message_id(domain: str) -> str:
    return make_msgid(domain=domain)[1:-1]


def _address(name: str, addr: str) -> Address:
    addr = clean_header(addr)
    if addr.count("@") != 1 or any(c in addr for c in " <>,;\"'"):
        raise HeaderError(f"not a usable email address: {addr!r}")
    user, domain = addr.split("@")
    return Address(display_name=clean_header(name), username=user, domain=domain)


def html_paragraphs(text: str) -> Markup:
    """Plain text to escaped HTML paragraphs: nothing in the text can become markup."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    return Markup("\n").join(Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(l) for l in b.splitlines())) for b in blocks)


@dataclass(frozen=True)
class Reply:
    message_id: str
    raw: bytes


def build_reply(
    *,
    to_name: str,
    to_addr: str,
    from_name: str,
    from_addr: str,
    subject: str,
    in_reply_to: str | None,
    references: list[str],
    text: str,
    html: str,
    message_id: str,
    date: datetime,
) -> Reply:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _address(from_name, from_addr)
    msg["To"] = _address(to_name, to_addr)
    msg["Subject"] = clean_header(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{clean_header(in_reply_to)}>"
    if references:
        msg["References"] = " ".join(f"<{clean_header(r)}>" for r in references)
    # RFC 3834: we are a person's reply, but tell auto-responders not to answer us.
    msg["Auto-Submitted"] = "no"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return Reply(message_id=message_id, raw=msg.as_bytes())
