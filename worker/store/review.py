"""Queries for the review side: users, drafts, the outbox, the audit log, label corrections.

A mixin of ``Store`` (``database.py`` owns the connection and the schema); split out only so
each file stays readable.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from .base import StoreBase, iso

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

    def users(self) -> list[dict]:
        return list(self.db.query("SELECT * FROM users ORDER BY name"))

    def delete_user(self, user_id: int) -> None:
        with self.transaction():
            self._exec("DELETE FROM users WHERE id = ?", [user_id])

    def set_user(self, user_id: int, **values: object) -> None:
        with self.transaction():
            self._update("users", user_id, values)

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
        """Count a failure against each key; past ``free`` failures, block it for a doubling time.
        A key with no failure for a day starts counting again."""
        with self.transaction():
            for key in keys:
                self._exec("INSERT INTO login_failures (key, failures, last_at) VALUES (?, 1, ?) "
                           "ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN last_at < ? THEN 1 "
                           "ELSE failures + 1 END, last_at = excluded.last_at",
                           [key, iso(now), iso(now - timedelta(days=1))])
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
        return self._one("SELECT * FROM users WHERE name = ?", [name])

    def user_by_id(self, user_id: int) -> dict | None:
        return self._one("SELECT * FROM users WHERE id = ?", [user_id])

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

    # Mail older than its mailbox's cut-off (desk/history.py) is history: kept, never answered.
    _ANSWERED_FROM = ("coalesce((SELECT min(s.value) FROM settings s WHERE s.key IN "
                      "('draft_since.' || m.mailbox, 'reopen_since.' || m.mailbox)), '')")
    _NEEDS_PERSON = (
        f"(m.automated IS NULL AND m.direction = 'in' AND coalesce(m.date, '') >= {_ANSWERED_FROM} "
        " AND (c.complaint = 1 OR c.praise = 1 OR m.id > (SELECT min(d.message_pk) FROM drafts d "
        "      WHERE d.conversation_id = m.conversation_id)) "
        " AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.message_pk = m.id) "
        " AND NOT EXISTS (SELECT 1 FROM surveys s WHERE s.answer_message_pk = m.id))")

    def messages_to_draft(self) -> list[dict]:
        """Classified customer messages not yet considered for a draft, oldest first (an index
        holds just those), each with ``needs``: true for every new complaint, and for every later
        message in a case Amends has drafted for, complaint or not. A survey answer given by
        reply is not one: it was recorded as the answer. Mark each one ``routed`` once decided."""
        return list(self.db.query(
            "SELECT m.id AS message_pk, m.conversation_id, m.subject, m.new_text, m.text, m.signature, "
            "m.from_addr, m.from_name, m.reply_to, m.message_id, m.refs, m.date, "
            f"c.complaint, c.praise, c.severity, c.category, {self._NEEDS_PERSON} AS needs "
            "FROM messages m INDEXED BY messages_unrouted JOIN classifications c ON c.message_pk = m.id AND c.current = 1 "
            "WHERE m.routed_at IS NULL AND m.classified_at IS NOT NULL ORDER BY m.id"))

    def needs_person(self, message_pk: int) -> bool:
        """``needs`` again for one message: a case may have gained its first draft since."""
        return bool(self._exec(
            f"SELECT {self._NEEDS_PERSON} FROM messages m JOIN classifications c ON c.message_pk = m.id "
            "AND c.current = 1 WHERE m.id = ?", [message_pk]).fetchone()[0])

    def reconsider_history(self, mailbox: str, since: datetime) -> int:
        """Messages from ``since`` on that were left as history and whose case we never answered:
        considered for a draft again (``messages_to_draft``)."""
        with self.transaction():
            return self._exec(
                "UPDATE messages SET routed_at = NULL WHERE mailbox = ? AND direction = 'in' AND date >= ? "
                "AND routed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.message_pk = messages.id) "
                "AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.conversation_id = messages.conversation_id "
                "AND o.direction = 'out' AND o.date >= messages.date)", [mailbox, iso(since)]).rowcount

    def mark_routed(self, message_pks: list[int], now: datetime) -> None:
        for start in range(0, len(message_pks), 500):
            chunk = message_pks[start : start + 500]
            self._exec(f"UPDATE messages SET routed_at = ? WHERE id IN ({','.join('?' * len(chunk))})",
                       [iso(now), *chunk])

    def customer_texts(self, conversation_id: int, before_id: int, limit: int = 5) -> list[str]:
        """The customer's earlier words in a case, newest first."""
        return [row[0] for row in self._exec(
            "SELECT coalesce(new_text, text, '') FROM messages WHERE conversation_id = ? AND direction = 'in' "
            "AND automated IS NULL AND state = 'parsed' AND id < ? ORDER BY id DESC LIMIT ?",
            [conversation_id, before_id, limit])]

    def case_labels(self, conversation_id: int) -> dict | None:
        """Severity and category of the case: its latest complaint."""
        return self._one(
            "SELECT c.severity, c.category FROM classifications c JOIN messages m ON m.id = c.message_pk "
            "WHERE m.conversation_id = ? AND c.current = 1 AND c.complaint = 1 ORDER BY m.id DESC LIMIT 1",
            [conversation_id])

    def open_draft(self, conversation_id: int) -> dict | None:
        return self._one(
            f"SELECT * FROM drafts WHERE conversation_id = ? AND state IN {OPEN_STATES} ORDER BY id DESC LIMIT 1",
            [conversation_id])

    def newer_draft(self, conversation_id: int, draft_id: int) -> dict | None:
        """The latest draft of the case after this one: what replaced a superseded draft."""
        return self._one("SELECT * FROM drafts WHERE conversation_id = ? AND id > ? ORDER BY id DESC LIMIT 1",
                         [conversation_id, draft_id])

    def insert_draft(self, values: dict) -> int:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        return self._exec(f"INSERT INTO drafts ({columns}) VALUES ({marks})", list(values.values())).lastrowid

    def update_draft(self, draft_id: int, **values: object) -> None:
        self._update("drafts", draft_id, values)

    def draft(self, draft_id: int) -> dict | None:
        return self._one("SELECT * FROM drafts WHERE id = ?", [draft_id])

    def draft_for_message(self, message_pk: int) -> dict | None:
        """The draft that answers this message (not a reopening that points at it)."""
        return self._one("SELECT * FROM drafts WHERE message_pk = ? AND survey_id IS NULL", [message_pk])

    def drafts(self, state: str | None = None, severity: str | None = None, category: str | None = None,
               owner: str | None = None, box: str | None = None, limit: int = 200) -> list[dict]:
        """The queue, with each case's owner and since when the customer has been waiting
        (their first message after our last reply, or the low survey score that reopened the
        case; a Date header later than arrival counts as the arrival). Reopened conversations
        first, then worst, then oldest."""
        clause, params = self._where(**{"d.state": state or None, "d.severity": severity or None,
                                        "d.category": category or None, "v.owner": owner or None,
                                        "v.mailbox": box or None})
        return list(self.db.query(
            "SELECT d.id, d.conversation_id, d.message_pk, d.survey_id, d.to_addr, d.to_name, d.subject, d.severity, "
            "d.category, d.state, d.kind, d.hold_role, d.customer_language, d.language, d.created_at, d.updated_at, "
            "d.decided_by, d.error, v.owner, v.mailbox, "
            "coalesce((SELECT min(min(coalesce(m.date, m.fetched_at), m.fetched_at)) FROM messages m "
            " WHERE m.conversation_id = d.conversation_id AND m.direction = 'in' AND m.automated IS NULL "
            " AND m.id > coalesce((SELECT max(o.id) FROM messages o WHERE o.conversation_id = d.conversation_id "
            "                      AND o.direction = 'out'), 0)), "
            " (SELECT s.answered_at FROM surveys s WHERE s.id = d.survey_id)) AS waiting_since, "  # a low score by link
            "(SELECT count(*) FROM messages m WHERE m.conversation_id = d.conversation_id AND m.direction = 'in' "
            " AND m.automated IS NULL AND m.id > coalesce((SELECT max(o.id) FROM messages o "
            " WHERE o.conversation_id = d.conversation_id AND o.direction = 'out'), 0)) AS unanswered "
            f"FROM drafts d JOIN conversations v ON v.id = d.conversation_id {clause} "
            f"ORDER BY d.survey_id IS NULL, {SEVERITY_ORDER.replace('severity', 'd.severity')}, d.created_at LIMIT ?",
            [*params, limit]))

    def draft_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {"state": {}, "severity": {}, "category": {}}
        for column in counts:
            where = "" if column == "state" else f"WHERE state IN {OPEN_STATES}"
            for value, n in self._exec(f"SELECT {column}, count(*) FROM drafts {where} GROUP BY {column}"):
                counts[column][value or "none"] = n
        return counts

    def add_draft_version(self, draft_id: int, version: int, body: str, by: str, now: datetime) -> None:
        self._exec("INSERT INTO draft_versions VALUES (?, ?, ?, ?, ?)", [draft_id, version, body, by, iso(now)])

    def draft_version(self, draft_id: int, version: int) -> dict | None:
        return self._one("SELECT * FROM draft_versions WHERE draft_id = ? AND version = ?", [draft_id, version])

    def mark_viewing(self, draft_id: int, user: str, now: datetime) -> None:
        with self.transaction():
            self._exec("INSERT INTO draft_views VALUES (?, ?, ?) ON CONFLICT (draft_id, user_name) "
                       "DO UPDATE SET seen_at = excluded.seen_at", [draft_id, user, iso(now)])

    def viewers(self, draft_id: int, since: datetime, other_than: str) -> list[str]:
        return [row[0] for row in self._exec(
            "SELECT user_name FROM draft_views WHERE draft_id = ? AND seen_at >= ? AND user_name != ? ORDER BY user_name",
            [draft_id, iso(since), other_than])]

    def set_owner(self, conversation_id: int, owner: str | None) -> None:
        self._exec("UPDATE conversations SET owner = ? WHERE id = ?", [owner, conversation_id])

    def conversation(self, conversation_id: int) -> dict | None:
        return self._one("SELECT * FROM conversations WHERE id = ?", [conversation_id])

    def user_names(self) -> list[str]:
        return [row[0] for row in self._exec("SELECT name FROM users ORDER BY name")]

    # -- promises made to customers ---------------------------------------------------------------

    def add_commitment(self, conversation_id: int, draft_id: int, owner: str, promise: str, due_at: datetime,
                       now: datetime) -> int:
        """One per draft: a draft approved again (after a failed send) makes its promise anew."""
        self._exec("UPDATE jobs SET state = 'cancelled', done_at = ?, reason = 'the reply was approved again' "
                   "WHERE kind = 'promise_warning' AND draft_id = ? AND state = 'scheduled'", [iso(now), draft_id])
        return self._exec(
            "INSERT INTO commitments (conversation_id, draft_id, owner, promise, due_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (draft_id) DO UPDATE SET owner = excluded.owner, "
            "promise = excluded.promise, due_at = excluded.due_at, state = 'open', created_at = excluded.created_at, "
            "closed_at = NULL, closed_reason = NULL",
            [conversation_id, draft_id, owner, promise, iso(due_at), iso(now)]).lastrowid

    def keep_commitments(self, conversation_id: int, by_draft: int, now: datetime) -> int:
        """A later reply in the case keeps the promises made before it."""
        return self._exec(
            "UPDATE commitments SET state = 'kept', closed_at = ?, closed_reason = ? "
            "WHERE conversation_id = ? AND state = 'open' AND draft_id != ?",
            [iso(now), f"answered by draft {by_draft}", conversation_id, by_draft]).rowcount

    def commitment_for_draft(self, draft_id: int) -> dict | None:
        return self._one("SELECT * FROM commitments WHERE draft_id = ?", [draft_id])

    def update_commitment(self, commitment_id: int, **values: object) -> None:
        self._update("commitments", commitment_id, values)

    def open_commitments(self, owner: str | None = None) -> list[dict]:
        clause, params = ("AND c.owner = ?", [owner]) if owner else ("", [])
        return list(self.db.query(
            "SELECT c.*, (SELECT max(id) FROM drafts d WHERE d.conversation_id = c.conversation_id) AS latest_draft, "
            "(SELECT subject FROM drafts d WHERE d.id = c.draft_id) AS subject, "
            "(SELECT coalesce(to_name, to_addr) FROM drafts d WHERE d.id = c.draft_id) AS customer "
            f"FROM commitments c WHERE c.state = 'open' {clause} ORDER BY c.due_at", params))

    # -- a case's history ---------------------------------------------------------------------------

    def case_events(self, conversation_id: int) -> dict[str, list[dict]]:
        """Everything that happened in a case, by source; ``review.case_history`` merges them."""
        return {
            "audit": list(self.db.query(
                "SELECT a.at, a.actor, a.action, a.object_id, a.detail FROM audit_log a WHERE (a.object_type = 'draft' "
                "AND a.object_id IN (SELECT id FROM drafts WHERE conversation_id = ?)) "
                "OR (a.object_type = 'conversation' AND a.object_id = ?) ORDER BY a.id",
                [conversation_id, conversation_id])),
            "outbox": list(self.db.query(
                "SELECT kind, message_id, to_addr, state, created_at, sent_at, last_error, promise_text FROM outbox "
                "WHERE conversation_id = ? ORDER BY id", [conversation_id])),
            "jobs": list(self.db.query(
                "SELECT kind, state, due_at, created_at, done_at, reason FROM jobs WHERE conversation_id = ? "
                "ORDER BY id", [conversation_id])),
            "commitments": list(self.db.query(
                "SELECT owner, promise, due_at, state, created_at, closed_at, closed_reason FROM commitments "
                "WHERE conversation_id = ? ORDER BY id", [conversation_id])),
        }

    def conversation_messages(self, conversation_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT id, direction, from_addr, from_name, subject, date, new_text, text, attachments, automated "
            "FROM messages WHERE conversation_id = ? ORDER BY date, id", [conversation_id]))

    def last_customer_message_pk(self, conversation_id: int) -> int | None:
        row = self._exec(
            "SELECT id FROM messages WHERE conversation_id = ? AND direction = 'in' AND automated IS NULL "
            "AND state = 'parsed' ORDER BY date DESC, id DESC LIMIT 1", [conversation_id]).fetchone()
        return row[0] if row else None

    def earlier_cases_of(self, sender: str, conversation_id: int, before_id: int, limit: int = 10) -> list[dict]:
        """The customer's other cases with a complaint (a chaser in this one is not a repeat)."""
        return list(self.db.query(
            "SELECT m.conversation_id, min(m.id) AS id, m.subject, min(m.date) AS date, c.severity, c.category "
            "FROM classifications c JOIN messages m ON m.id = c.message_pk WHERE c.current = 1 AND c.complaint = 1 "
            "AND m.from_addr = ? AND m.id < ? AND m.conversation_id != ? GROUP BY m.conversation_id "
            "ORDER BY id DESC LIMIT ?", [sender, before_id, conversation_id, limit]))

    def has_message_id(self, message_id: str) -> bool:
        return self._exec("SELECT 1 FROM messages WHERE message_id = ? LIMIT 1", [message_id]).fetchone() is not None

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
