"""Queries for the outbox: every message we send, as final bytes, before any SMTP call."""

from __future__ import annotations

from datetime import datetime

from ..config import DEFAULT_MAILBOX
from .base import StoreBase, iso


class OutboxQueries(StoreBase):
    def enqueue(self, *, kind: str, draft_id: int | None, conversation_id: int | None, message_id: str,
                to_addr: str, raw: bytes, now: datetime, promise_hours: float | None = None,
                promise_text: str | None = None, box: str = DEFAULT_MAILBOX) -> int:
        """Call inside the transaction that also records why the message is sent. ``box`` is the
        mailbox it goes out from: that mailbox's worker sends it."""
        return self._exec(
            "INSERT INTO outbox (kind, draft_id, conversation_id, message_id, to_addr, raw, next_attempt_at, created_at, "
            "promise_hours, promise_text, mailbox) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [kind, draft_id, conversation_id, message_id, to_addr, raw, iso(now), iso(now), promise_hours, promise_text, box],
        ).lastrowid

    def outbox_due(self, now: datetime, box: str = DEFAULT_MAILBOX) -> list[dict]:
        """One mailbox's unsent mail whose time has come, and sent mail not yet filed in Sent."""
        columns = "id, kind, draft_id, conversation_id, message_id, to_addr, state, stage, attempts, filed_at"
        return list(self.db.query(  # two indexed halves: an OR would read the whole outbox
            f"SELECT {columns} FROM outbox WHERE state IN ('queued', 'sending') AND next_attempt_at <= ? AND mailbox = ? "
            f"UNION ALL SELECT {columns} FROM outbox INDEXED BY outbox_unfiled WHERE state = 'sent' AND filed_at IS NULL "
            "AND mailbox = ? ORDER BY id", [iso(now), box, box]))

    def outbox_raw(self, outbox_id: int) -> bytes:
        return self._exec("SELECT raw FROM outbox WHERE id = ?", [outbox_id]).fetchone()[0]

    def outbox_row(self, outbox_id: int) -> dict | None:
        return self._one(
            "SELECT id, kind, draft_id, conversation_id, message_id, to_addr, state, stage, attempts, "
            "next_attempt_at, last_error, created_at, sent_at, filed_at, promise_hours, promise_text "
            "FROM outbox WHERE id = ?", [outbox_id])

    def outbox_rows(self, kind: str | None = None) -> list[dict]:
        clause, params = self._where(kind=kind)
        return list(self.db.query(
            f"SELECT id, kind, draft_id, conversation_id, message_id, to_addr, state, created_at, sent_at "
            f"FROM outbox {clause} ORDER BY id", params))

    def outbox_for_draft(self, draft_id: int) -> dict | None:
        return self._one(
            "SELECT id, state, last_error, sent_at, message_id, promise_text FROM outbox WHERE draft_id = ? "
            "ORDER BY id DESC LIMIT 1",
            [draft_id])

    def update_outbox(self, outbox_id: int, now: datetime, **values: object) -> None:
        """Change an outbox row; a reply that is sent or has failed takes its draft along."""
        with self.transaction():
            self._update("outbox", outbox_id, values)
            state = values.get("state")
            if state not in ("sent", "failed"):
                return
            row = self._exec("SELECT draft_id FROM outbox WHERE id = ?", [outbox_id]).fetchone()
            if row and row[0]:
                detail = ("sent_at", iso(now)) if state == "sent" else ("error", values.get("last_error"))
                self._exec(
                    f"UPDATE drafts SET state = ?, updated_at = ?, {detail[0]} = ? WHERE id = ?",
                    [state, iso(now), detail[1], row[0]],
                )
