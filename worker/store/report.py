"""Queries for the report: what went wrong, how it was answered, and what customers said."""

from __future__ import annotations

from .base import StoreBase


class ReportQueries(StoreBase):
    def from_people_texts(self, start: str) -> list[dict]:
        """All mail from people since ``start``: the background root-cause words are weighed against."""
        return list(self.db.query(
            "SELECT from_name, new_text FROM messages WHERE state = 'parsed' AND automated IS NULL "
            "AND direction = 'in' AND date >= ?", [start]))

    def fingerprint(self) -> tuple:
        """Changes whenever anything a report counts changes: a cheap key for caching it."""
        return tuple(self._exec(
            "SELECT (SELECT max(id) FROM messages), (SELECT max(id) FROM classifications), "
            "(SELECT max(id) FROM audit_log), (SELECT max(answered_at) FROM surveys), "
            "(SELECT count(*) FROM outbox WHERE state = 'sent')").fetchone())

    def complaints_since(self, start: str) -> list[dict]:
        return list(self.db.query(
            "SELECT m.id, m.from_addr, m.date, m.new_text, m.conversation_id, c.severity, c.category FROM classifications c "
            "JOIN messages m ON m.id = c.message_pk WHERE c.current = 1 AND c.complaint = 1 AND m.date >= ? "
            "ORDER BY m.date", [start]))

    def draft_outcomes_since(self, start: str) -> list[dict]:
        return list(self.db.query(
            "SELECT d.state, d.body, d.rendered_body, d.sent_at, d.survey_id, m.date FROM drafts d JOIN messages m "
            "ON m.id = d.message_pk WHERE d.created_at >= ?", [start]))

    def decisions_since(self, start: str) -> list[dict]:
        """Each approval or rejection a person made (the audit log is where decisions are kept)."""
        return list(self.db.query(
            "SELECT action, object_id AS draft_id, at FROM audit_log WHERE object_type = 'draft' "
            "AND action IN ('approved', 'rejected') AND at >= ? ORDER BY id", [start]))

    def survey_scores_since(self, start: str) -> list[dict]:
        return list(self.db.query(
            "SELECT severity, score FROM surveys WHERE score IS NOT NULL AND sent_at >= ?", [start]))
