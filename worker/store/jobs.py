"""Queries for scheduled jobs and surveys. What is due is always read from here."""

from __future__ import annotations

from datetime import datetime

from .base import StoreBase, iso


class JobQueries(StoreBase):
    def sent_replies_without_followups(self) -> list[dict]:
        """Replies that went out and have no follow-up scheduled yet (an index holds just those;
        ``followups_scheduled`` takes them off)."""
        return list(self.db.query(
            "SELECT d.id AS draft_id, d.kind, d.conversation_id, d.severity, d.survey_id, d.stakes, o.sent_at, "
            "m.id AS outbound_pk "
            "FROM drafts d INDEXED BY drafts_sent_unscheduled CROSS JOIN outbox o ON o.draft_id = d.id AND o.state = 'sent' "
            "JOIN messages m ON m.message_id = o.message_id AND m.direction = 'out' "
            "WHERE d.state = 'sent' AND d.followups_at IS NULL"))

    def followups_scheduled(self, draft_id: int, now: datetime) -> None:
        self._exec("UPDATE drafts SET followups_at = ? WHERE id = ?", [iso(now), draft_id])

    def first_alerts(self, conversation_id: int, kind: str = "leadership_alert") -> dict[str, str]:
        """recipient -> Message-ID of the first alert about this case: updates thread under it."""
        found: dict[str, str] = {}
        for to_addr, message_id in self._exec(
                "SELECT to_addr, message_id FROM outbox WHERE conversation_id = ? AND kind = ? ORDER BY id",
                [conversation_id, kind]):
            found.setdefault(to_addr, message_id)
        return found

    def complaints_to_alert(self) -> list[dict]:
        """Complaints not yet looked at for an alert (an index holds just those); ``history`` when
        older than their mailbox's cut-off (desk/history.py): looked at, never alerted."""
        return list(self.db.query(
            "SELECT c.id AS classification_id, c.severity, m.id AS message_pk, m.conversation_id, "
            "coalesce(m.date, '') < coalesce((SELECT s.value FROM settings s WHERE s.key = 'draft_since.' || m.mailbox), '') "
            "AS history FROM classifications c "
            "INDEXED BY classifications_unchecked JOIN messages m ON m.id = c.message_pk "
            "WHERE c.alert_checked IS NULL AND c.current = 1 AND c.complaint = 1"))

    def alerts_checked(self, classification_ids: list[int]) -> None:
        for start in range(0, len(classification_ids), 500):
            chunk = classification_ids[start : start + 500]
            self._exec(f"UPDATE classifications SET alert_checked = 1 WHERE id IN ({','.join('?' * len(chunk))})", chunk)

    def add_job(self, kind: str, conversation_id: int | None, draft_id: int | None, message_pk: int | None,
                due_at: datetime, now: datetime, survey_id: int | None = None) -> int | None:
        """Schedule once: a second call for the same (kind, message or survey) does nothing."""
        cursor = self._exec(
            "INSERT OR IGNORE INTO jobs (kind, conversation_id, draft_id, message_pk, survey_id, due_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [kind, conversation_id, draft_id, message_pk, survey_id, iso(due_at), iso(now)])
        return cursor.lastrowid if cursor.rowcount else None

    def cancel_superseded_jobs(self, now: datetime) -> int:
        """A customer who writes again gets an answer, not a scheduled follow-up or survey."""
        with self.transaction():
            return self._exec(
                "UPDATE jobs SET state = 'cancelled', done_at = ?, reason = 'the customer wrote again (message ' || "
                "(SELECT min(m.id) FROM messages m WHERE m.conversation_id = jobs.conversation_id AND m.direction = 'in' "
                " AND m.automated IS NULL AND m.id > jobs.message_pk) || ')' "
                "WHERE state = 'scheduled' AND kind IN ('follow_up', 'survey') AND EXISTS (SELECT 1 FROM messages m "
                "WHERE m.conversation_id = jobs.conversation_id AND m.direction = 'in' AND m.automated IS NULL "
                "AND m.state = 'parsed' AND m.id > jobs.message_pk)", [iso(now)]).rowcount

    def due_jobs(self, now: datetime) -> list[dict]:
        return list(self.db.query(
            "SELECT * FROM jobs WHERE state = 'scheduled' AND due_at <= ? ORDER BY due_at, id", [iso(now)]))

    def work_due(self, now: datetime) -> bool:
        """Anything for the worker to do that did not come in by mail: an approved reply, a due job."""
        moment = iso(now)
        return bool(self._exec(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'queued' AND next_attempt_at <= ?) "
            "OR EXISTS (SELECT 1 FROM jobs WHERE state = 'scheduled' AND due_at <= ?)", [moment, moment]).fetchone()[0])

    def stalled(self, before: datetime) -> list[str]:
        """Stages that have had work waiting since before ``before``: what `amends status` warns of."""
        moment = iso(before)
        checks = [
            ("message(s) stored but not parsed", "SELECT count(*), NULL FROM messages WHERE state = 'new' AND fetched_at < ?"),
            ("approved message(s) not sent", "SELECT count(*), max(last_error) FROM outbox "
             "WHERE state IN ('queued', 'sending') AND next_attempt_at < ?"),
            ("sent message(s) not filed in the Sent folder (imap.sent_folder)", "SELECT count(*), max(last_error) "
             "FROM outbox INDEXED BY outbox_unfiled WHERE state = 'sent' AND filed_at IS NULL AND sent_at < ?"),
            ("job(s) overdue", "SELECT count(*), max(last_error) FROM jobs WHERE state = 'scheduled' AND due_at < ?"),
        ]
        found = []
        for what, sql in checks:
            count, error = self._exec(sql, [moment]).fetchone()
            if count:
                found.append(f"{count} {what}" + (f" (last error: {error})" if error else ""))
        return found

    def jobs(self, state: str | None = None, kind: str | None = None, limit: int = 200) -> list[dict]:
        clause, params = self._where(state=state or None, kind=kind or None)
        return list(self.db.query(f"SELECT * FROM jobs {clause} ORDER BY due_at, id LIMIT ?", [*params, limit]))

    def cancel_jobs(self, kind: str, reason: str, now: datetime) -> int:
        return self._exec("UPDATE jobs SET state = 'cancelled', done_at = ?, reason = ? WHERE state = 'scheduled' "
                          "AND kind = ?", [iso(now), reason, kind]).rowcount

    def last_digest_end(self, other_than: int) -> datetime | None:
        row = self._exec("SELECT max(due_at) FROM jobs WHERE kind = 'daily_digest' AND state = 'done' AND id != ?",
                         [other_than]).fetchone()
        return datetime.fromisoformat(row[0]) if row[0] else None

    def complaints_received(self, start: str, end: str, leave_out: tuple[str, ...]) -> list[dict]:
        """Complaints fetched in [start, end) but of other severities, with their draft and repeat count."""
        marks = ",".join("?" for _ in leave_out)
        return list(self.db.query(
            "SELECT m.id, m.subject, m.from_addr, m.from_name, m.fetched_at, c.severity, c.category, "
            "d.id AS draft_id, d.state AS draft_state, (SELECT count(DISTINCT m2.conversation_id) FROM classifications c2 "
            "JOIN messages m2 ON m2.id = c2.message_pk WHERE c2.current = 1 AND c2.complaint = 1 "
            "AND m2.from_addr = m.from_addr AND m2.id < m.id AND m2.conversation_id != m.conversation_id) AS earlier "
            "FROM classifications c JOIN messages m ON m.id = c.message_pk "
            "LEFT JOIN drafts d ON d.message_pk = m.id AND d.survey_id IS NULL "
            f"WHERE c.current = 1 AND c.complaint = 1 AND c.severity NOT IN ({marks}) "
            "AND m.fetched_at >= ? AND m.fetched_at < ? ORDER BY m.id", [*leave_out, start, end]))

    def job(self, job_id: int) -> dict | None:
        return self._one("SELECT * FROM jobs WHERE id = ?", [job_id])

    def update_job(self, job_id: int, **values: object) -> None:
        self._update("jobs", job_id, values)

    def add_survey(self, conversation_id: int, job_id: int, severity: str | None, category: str | None, now: datetime) -> int:
        return self._exec(
            "INSERT INTO surveys (conversation_id, job_id, severity, category, sent_at) VALUES (?, ?, ?, ?, ?)",
            [conversation_id, job_id, severity, category, iso(now)]).lastrowid

    def survey(self, survey_id: int) -> dict | None:
        return self._one("SELECT * FROM surveys WHERE id = ?", [survey_id])

    def survey_draft(self, survey_id: int) -> dict | None:
        """The reply the survey followed up on (its job names it)."""
        return self._one(
            "SELECT d.* FROM surveys s JOIN jobs j ON j.id = s.job_id JOIN drafts d ON d.id = j.draft_id WHERE s.id = ?",
            [survey_id])

    def survey_replies(self, message_ids: list[int]) -> list[dict]:
        """Among these messages, those from a person in a conversation with an open survey."""
        rows: list[dict] = []
        for start in range(0, len(message_ids), 500):
            chunk = message_ids[start : start + 500]
            rows.extend(self.db.query(
                "SELECT m.id, m.new_text, s.id AS survey_id FROM messages m JOIN surveys s "
                "ON s.conversation_id = m.conversation_id AND s.answered_at IS NULL "
                f"WHERE m.id IN ({','.join('?' * len(chunk))}) AND m.direction = 'in' AND m.automated IS NULL "
                "ORDER BY m.id", chunk))
        return rows

    def answer_survey(self, survey_id: int, score: int, comment: str | None, via: str, now: datetime,
                      message_pk: int | None = None) -> bool:
        """The first answer counts; returns False when the survey was already answered."""
        with self.transaction():
            return self._exec(
                "UPDATE surveys SET score = ?, comment = ?, answered_at = ?, answered_via = ?, answer_message_pk = ? "
                "WHERE id = ? AND answered_at IS NULL", [score, comment, iso(now), via, message_pk, survey_id]).rowcount == 1
