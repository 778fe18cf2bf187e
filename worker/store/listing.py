"""Queries for reading stored messages: the lists and the one-message view the commands show."""

from __future__ import annotations

import json

from .base import StoreBase


class ListingQueries(StoreBase):
    LIST_COLUMNS = (
        "m.id, m.message_id, m.folder, m.uid, m.from_addr AS 'from', m.subject, m.date, "
        "m.conversation_id, m.automated, m.state, c.complaint, c.severity, c.category"
    )

    def messages(self, limit: int = 50, state: str | None = None) -> list[dict]:
        where, params = ("WHERE m.state = ?", [state]) if state else ("", [])
        rows = list(
            self.db.query(
                f"SELECT {self.LIST_COLUMNS} FROM messages m LEFT JOIN classifications c "
                f"ON c.message_pk = m.id AND c.current = 1 {where} ORDER BY m.id DESC LIMIT ?",
                [*params, limit],
            )
        )
        for row in rows:
            if row["complaint"] is not None:
                row["complaint"] = bool(row["complaint"])
        return rows

    def message(self, pk: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM messages WHERE id = ?", [pk]))
        if not rows:
            return None
        row = rows[0]
        for key in ("refs", "attachments", "to_addrs", "cc_addrs"):
            if row.get(key):
                row[key] = json.loads(row[key])
        row["locations"] = list(
            self.db.query(
                "SELECT mailbox, folder, uidvalidity, uid FROM locations WHERE message_pk = ?", [pk]
            )
        )
        return row

    def quarantined(self) -> list[dict]:
        return list(
            self.db.query(
                "SELECT id, message_id, folder, uid, size, fetched_at, quarantine_reason "
                "FROM messages WHERE state = 'quarantined' ORDER BY id"
            )
        )

    def counts(self) -> dict[str, int]:
        counts = {
            state: n
            for state, n in self.db.execute("SELECT state, count(*) FROM messages GROUP BY state")
        }
        counts["automated"] = self.db.execute(
            "SELECT count(*) FROM messages WHERE automated IS NOT NULL"
        ).fetchone()[0]
        counts["conversations"] = self.db.execute("SELECT count(*) FROM conversations").fetchone()[0]
        return counts
