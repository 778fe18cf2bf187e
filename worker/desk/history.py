"""A mailbox's history: kept for what it is good for, never answered.

A shared inbox connected for the first time holds years of mail. It is all imported (threads,
repeat complainers, reports, retraining), but drafts, leadership alerts, follow-ups and surveys
are only for mail that arrives after a cut-off: by default the moment the mailbox was first
connected, or ``[imap] draft_since`` (a date, "N days" before the first connection, or "all").
Older open cases come into the queue only when someone asks (``amends cases reopen``).

The cut-off of each mailbox is a setting (``draft_since.<mailbox>``) that the store's queries
compare each message's date with; a reopening adds ``reopen_since.<mailbox>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..config import Config, ImapConfig
from ..config.sections import parse_draft_since
from ..errors import AmendsError
from ..store import Store, iso


class HistoryError(AmendsError):
    """A reopening that names no mailbox of the config."""


@dataclass(frozen=True)
class CutOff:
    mailbox: str
    connected_at: datetime
    draft_since: datetime | None  # None: every message is answered
    reopened_since: datetime | None


def cut_off(imap: ImapConfig, connected_at: datetime) -> datetime | None:
    """From when a mailbox's mail is answered; None: all of it."""
    parsed = parse_draft_since(imap.draft_since)
    if parsed is None:
        return connected_at
    if parsed == "all":
        return None
    return connected_at - parsed if isinstance(parsed, timedelta) else parsed


def _setting(store: Store, key: str) -> str | None:
    return store.settings(key).get(key)


def connect(store: Store, mailbox: str, imap: ImapConfig, now: datetime) -> None:
    """Record a mailbox's first connection (once), and its cut-off as ``[imap] draft_since`` says
    now; a worker does this before it first reads the mailbox."""
    first = _setting(store, f"connected_at.{mailbox}")
    if first is None:
        store.set_setting(f"connected_at.{mailbox}", iso(now), "amends", now)
        first = iso(now)
    connected_at = datetime.fromisoformat(first)
    since = cut_off(imap, connected_at)
    if _setting(store, f"draft_since.{mailbox}") != (iso(since) if since else ""):
        store.set_setting(f"draft_since.{mailbox}", iso(since) if since else "", "amends", now)


def cut_off_of(store: Store, mailbox: str) -> CutOff | None:
    """What ``connect`` recorded for ``mailbox``; None before its first connection."""
    first = _setting(store, f"connected_at.{mailbox}")
    if first is None:
        return None
    since, reopened = _setting(store, f"draft_since.{mailbox}"), _setting(store, f"reopen_since.{mailbox}")
    return CutOff(mailbox, datetime.fromisoformat(first), datetime.fromisoformat(since) if since else None,
                  datetime.fromisoformat(reopened) if reopened else None)


def reopen(store: Store, config: Config, since: datetime, by: str, now: datetime, mailbox: str | None = None) -> int:
    """Bring complaints from ``since`` on, older than the cut-off and never answered, into the
    queue: they are drafted on the next pass (no leadership alert: that moment has passed).
    Returns how many messages are considered again."""
    names = [m.name for m in config.mailboxes if mailbox in (None, m.name)]
    if not names:
        raise HistoryError(f"no mailbox named {mailbox!r} in {config.path}")
    total = 0
    for name in names:
        store.set_setting(f"reopen_since.{name}", iso(since), by, now)
        total += store.reconsider_history(name, since)
    return total
