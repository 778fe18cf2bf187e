"""Queries for the review side: users, drafts, the outbox, the audit log, label corrections.

A mixin of ``Store`` (``store.py`` owns the connection and the schema); split out only so
each file stays readable.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from .store_base import StoreBase, iso

SEVERITY_ORDER = "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END"
OPEN_STATES = ("pending", "failed")


class ReviewQueries(StoreBase):
    # -- users ----------------------------------------------------------------------------------

    def add_user(self, name: str, password_hash: str, is_admin: bool, now: datetime) -> int:
        with self.transaction():
            return self._exec(
                "INSERT INTO users (name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?)",
                [name, password_hash, int(is_admin), iso(now)],
            ).lastrowid

    def set_password(self, name: str, password_hash: str) -> bool:
        """A new password also ends every session signed in with the old one."""
        with self.transaction():
            return self._exec("UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1 WHERE name = ?",
                              [password_hash, name]).rowcount == 1

    def revoke_sessions(self, user_id: int) -> None:
        """Every session cookie issued to this user so far stops working, copies included."""
        with self.transaction():
            self._exec("UPDATE users SET session_epoch = session_epoch + 1 WHERE id = ?", [user_id])

    # -- failed logins ------------------------------------------------------------------------

    def login_blocked_until(self, keys: list[str], now: datetime) -> datetime | None:
        marks = ",".join("?" * len(keys))
        row = self._exec(f"SELECT max(blocked_until) FROM login_failures WHERE key IN ({marks}) AND blocked_until > ?",
                         [*keys, iso(now)]).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def login_failed(self, keys: list[str], now: datetime, free: int, base_seconds: int, max_seconds: int) -> None:
        """Count a failure against each key; past ``free`` failures, block it for a doubling time."""
        with self.transaction():
            for key in keys:
                self._exec("INSERT INTO login_failures (key, failures, last_at) VALUES (?, 1, ?) "
                           "ON CONFLICT (key) DO UPDATE SET failures = failures + 1, last_at = excluded.last_at",
                           [key, iso(now)])
                failures = self._exec("SELECT failures FROM login_failures WHERE key = ?", [key]).fetchone()[0]
                if failures >= free:
                    seconds = min(max_seconds, base_seconds * 2 ** (failures - free))
                    self._exec("UPDATE login_failures SET blocked_until = ? WHERE key = ?",
                               [iso(now + timedelta(seconds=seconds)), key])

    def login_succeeded(self, keys: list[str]) -> None:
        marks = ",".join("?" * len(keys))
        with self.transaction():
            self._exec(f"DELETE FROM login_failures WHERE key IN ({marks})", keys)

    def user(self, name: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM users WHERE name = ?", [name]))
        return rows[0] if rows else None

    def user_by_id(self, user_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM users WHERE id = ?", [user_id]))
        return rows[0] if rows else None

    def touch_login(self, user_id: int, now: datetime) -> None:
        with self.transaction():
            self._exec("UPDATE users SET last_login_at = ? WHERE id = ?", [iso(now), user_id])

    # -- settings an admin changed at run time (they win over the config file) -------------------

    def settings(self, prefix: str) -> dict[str, str]:
        return {row["key"]: row["value"] for row in self.db.query(
            "SELECT key, value FROM settings WHERE key LIKE ?", [prefix + "%"])}

    def set_setting(self, key: str, value: str, by: str, now: datetime) -> None:
        with self.transaction():
            self._exec("INSERT INTO settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, "
                       "updated_at = excluded.updated_at", [key, value, by, iso(now)])
        self.audit(by, "changed setting", "setting", None, {"key": key, "value": value}, now)

    def reviewed_probabilities(self) -> list[tuple[int, float]]:
        """(true label from a reviewer, P(complaint) the current model gave) per corrected message."""
        return [(row["complaint"], row["complaint_probability"]) for row in self.db.query(
            "SELECT l.complaint, c.complaint_probability FROM label_corrections l "
            "JOIN classifications c ON c.message_pk = l.message_pk AND c.current = 1 "
            "WHERE l.id = (SELECT max(id) FROM label_corrections WHERE message_pk = l.message_pk)")]

    # -- audit ----------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, object_type: str, object_id: int | None, detail: dict | None, now: datetime) -> None:
        with self.transaction():
            self._exec(
                "INSERT INTO audit_log (at, actor, action, object_type, object_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
                [iso(now), actor, action, object_type, object_id, json.dumps(detail or {}, ensure_ascii=False)],
            )

    def audit_trail(self, object_type: str, object_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT at, actor, action, detail FROM audit_log WHERE object_type = ? AND object_id = ? ORDER BY id",
            [object_type, object_id]))

    # -- drafts ---------------------------------------------------------------------------------

    def complaints_to_draft(self) -> list[dict]:
        """Current complaint classifications whose message has no draft yet, oldest first."""
        return list(self.db.query(
            "SELECT m.id AS message_pk, m.conversation_id, m.subject, m.new_text, m.text, m.signature, "
            "m.from_addr, m.from_name, m.reply_to, m.message_id, m.refs, m.date, "
            "c.severity, c.category FROM classifications c JOIN messages m ON m.id = c.message_pk "
            "WHERE c.current = 1 AND c.complaint = 1 AND m.automated IS NULL AND m.direction = 'in' "
            "AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.message_pk = m.id) ORDER BY m.id"))

    def open_draft(self, conversation_id: int) -> dict | None:
        rows = list(self.db.query(
            f"SELECT * FROM drafts WHERE conversation_id = ? AND state IN {OPEN_STATES} ORDER BY id DESC LIMIT 1",
            [conversation_id]))
        return rows[0] if rows else None

    def insert_draft(self, values: dict) -> int:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        return self._exec(f"INSERT INTO drafts ({columns}) VALUES ({marks})", list(values.values())).lastrowid

    def update_draft(self, draft_id: int, **values: object) -> None:
        assignments = ", ".join(f"{key} = ?" for key in values)
        self._exec(f"UPDATE drafts SET {assignments} WHERE id = ?", [*values.values(), draft_id])

    def draft(self, draft_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM drafts WHERE id = ?", [draft_id]))
        return rows[0] if rows else None

    def draft_for_message(self, message_pk: int) -> dict | None:
        """The draft that answers this message (not a reopening that points at it)."""
        rows = list(self.db.query("SELECT * FROM drafts WHERE message_pk = ? AND survey_id IS NULL", [message_pk]))
        return rows[0] if rows else None

    def drafts(self, state: str | None = None, severity: str | None = None, category: str | None = None,
               limit: int = 200) -> list[dict]:
        """The queue: reopened conversations first (a second failure), then worst, then oldest."""
        clause, params = self._where(state=state or None, severity=severity or None, category=category or None)
        return list(self.db.query(
            f"SELECT id, conversation_id, message_pk, survey_id, to_addr, to_name, subject, severity, category, state, "
            f"created_at, updated_at, decided_by, error FROM drafts {clause} "
            f"ORDER BY survey_id IS NULL, {SEVERITY_ORDER}, created_at LIMIT ?", [*params, limit]))

    def draft_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {"state": {}, "severity": {}, "category": {}}
        for column in counts:
            where = "" if column == "state" else f"WHERE state IN {OPEN_STATES}"
            for value, n in self._exec(f"SELECT {column}, count(*) FROM drafts {where} GROUP BY {column}"):
                counts[column][value or "none"] = n
        return counts

    def conversation_messages(self, conversation_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT id, direction, from_addr, from_name, subject, date, new_text, text, attachments, automated "
            "FROM messages WHERE conversation_id = ? ORDER BY date, id", [conversation_id]))

    def last_customer_message_pk(self, conversation_id: int) -> int | None:
        row = self._exec(
            "SELECT id FROM messages WHERE conversation_id = ? AND direction = 'in' AND automated IS NULL "
            "AND state = 'parsed' ORDER BY date DESC, id DESC LIMIT 1", [conversation_id]).fetchone()
        return row[0] if row else None

    def earlier_complaints_of(self, sender: str, before_id: int, limit: int = 10) -> list[dict]:
        return list(self.db.query(
            "SELECT m.id, m.subject, m.date, c.severity, c.category FROM classifications c "
            "JOIN messages m ON m.id = c.message_pk WHERE c.current = 1 AND c.complaint = 1 "
            "AND m.from_addr = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?", [sender, before_id, limit]))

    def record_outbound(self, *, message_id: str, from_addr: str, from_name: str, to_addr: str, subject: str,
                        text: str, conversation_id: int, now: datetime) -> int:
        """Call inside the approving transaction: our reply as a message of the conversation."""
        return self._exec(
            "INSERT INTO messages (message_key, message_id, sha256, size, fetched_at, direction, state, parsed_at, "
            "from_addr, from_name, to_addrs, subject, date, text, new_text, conversation_id) "
            "VALUES (?, ?, '', 0, ?, 'out', 'parsed', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [f"mid:{message_id}", message_id, iso(now), iso(now), from_addr.lower(), from_name,
             json.dumps([to_addr]), subject, iso(now), text, text, conversation_id],
        ).lastrowid

    # -- label corrections ----------------------------------------------------------------------

    def add_correction(self, message_pk: int, by: str, complaint: bool, severity: str | None,
                       category: str | None, now: datetime) -> int:
        with self.transaction():
            return self._exec(
                "INSERT INTO label_corrections (message_pk, corrected_by, complaint, severity, category, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", [message_pk, by, int(complaint), severity, category, iso(now)]).lastrowid

    def corrections(self) -> list[dict]:
        """The latest correction of each message, with its text: training data for retrain."""
        return list(self.db.query(
            "SELECT l.message_pk, l.complaint, l.severity, l.category, m.subject, m.new_text, m.text "
            "FROM label_corrections l JOIN messages m ON m.id = l.message_pk "
            "WHERE l.id = (SELECT max(id) FROM label_corrections WHERE message_pk = l.message_pk)"))
