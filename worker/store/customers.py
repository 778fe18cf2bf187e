"""Queries for one customer's data: everything Amends holds about an address, to hand it over
or erase it."""

from __future__ import annotations

from .base import StoreBase

ERASED = "[erased]"


class CustomerQueries(StoreBase):
    def customer_cases(self, address: str) -> list[int]:
        """Conversations with this customer: theirs, or any holding a message from them."""
        return [row[0] for row in self._exec(
            "SELECT id FROM conversations WHERE lower(customer) = ? UNION "
            "SELECT conversation_id FROM messages WHERE lower(from_addr) = ? AND conversation_id IS NOT NULL "
            "UNION SELECT conversation_id FROM drafts WHERE lower(to_addr) = ? ORDER BY 1",
            [address, address, address])]

    def customer_message_ids(self, address: str, cases: list[int]) -> list[int]:
        """Their messages and ours in their cases (our replies quote them)."""
        marks = ",".join("?" * len(cases)) or "NULL"
        return [row[0] for row in self._exec(
            f"SELECT id FROM messages WHERE lower(from_addr) = ? OR conversation_id IN ({marks}) ORDER BY id",
            [address, *cases])]

    def rows_where(self, table: str, column: str, values: list[int]) -> list[dict]:
        if not values:
            return []
        marks = ",".join("?" * len(values))
        return list(self.db.query(f"SELECT * FROM {table} WHERE {column} IN ({marks}) ORDER BY 1", values))

    def erase_customer_rows(self, cases: list[int], messages: list[int], drafts: list[int], reason: str) -> None:
        """Wipe the words and addresses; keep the skeleton (dates, labels, states) that the report
        and the law rely on, and each message's key, so the copy still in the mailbox is known
        and never imported again. Nothing left for them is sent."""
        def marks(values: list[int]) -> str:
            return ",".join("?" * len(values)) or "NULL"

        with self.transaction():
            self._exec(f"DELETE FROM raw_messages WHERE message_pk IN ({marks(messages)})", messages)
            self._exec(
                "UPDATE messages SET state = 'erased', from_addr = NULL, from_name = NULL, reply_to = NULL, "
                "to_addrs = NULL, cc_addrs = NULL, subject = NULL, text = NULL, new_text = NULL, signature = NULL, "
                f"attachments = NULL WHERE id IN ({marks(messages)})", messages)
            self._exec(f"UPDATE classifications SET reasons = '[]' WHERE message_pk IN ({marks(messages)})", messages)
            self._exec(f"DELETE FROM label_corrections WHERE message_pk IN ({marks(messages)})", messages)  # training data
            self._exec(
                "UPDATE drafts SET state = CASE WHEN state IN ('pending', 'failed', 'approved') THEN 'rejected' "
                "ELSE state END, reject_reason = CASE WHEN state IN ('pending', 'failed', 'approved') THEN ? "
                f"ELSE reject_reason END, to_addr = ?, to_name = NULL, subject = ?, body = ?, rendered_body = ?, "
                f"error = NULL WHERE id IN ({marks(drafts)})", [reason, ERASED, ERASED, ERASED, ERASED, *drafts])
            self._exec(f"UPDATE draft_versions SET body = ? WHERE draft_id IN ({marks(drafts)})", [ERASED, *drafts])
            self._exec(f"DELETE FROM draft_views WHERE draft_id IN ({marks(drafts)})", drafts)
            self._exec(
                "UPDATE outbox SET state = CASE WHEN state IN ('queued', 'sending') THEN 'failed' ELSE state END, "
                "last_error = CASE WHEN state IN ('queued', 'sending') THEN ? ELSE last_error END, "
                f"to_addr = ?, raw = X'' WHERE conversation_id IN ({marks(cases)}) OR draft_id IN ({marks(drafts)})",
                [reason, ERASED, *cases, *drafts])
            self._exec(
                f"UPDATE jobs SET state = 'cancelled', reason = ? WHERE state = 'scheduled' AND conversation_id IN "
                f"({marks(cases)})", [reason, *cases])
            self._exec(f"UPDATE surveys SET comment = NULL WHERE conversation_id IN ({marks(cases)})", cases)
            self._exec(f"UPDATE conversations SET customer = NULL, subject_key = '' WHERE id IN ({marks(cases)})", cases)
            self._exec(f"UPDATE audit_log SET detail = NULL WHERE object_type = 'draft' AND object_id IN "
                       f"({marks(drafts)})", drafts)

    # -- retention ------------------------------------------------------------------------------

    def raw_older_than(self, before: str, limit: int = 1000) -> list[int]:
        """Messages whose raw bytes were fetched before ``before`` and are no longer needed to
        parse them (new ones still are)."""
        return [row[0] for row in self._exec(
            "SELECT r.message_pk FROM raw_messages r JOIN messages m ON m.id = r.message_pk "
            "WHERE m.fetched_at < ? AND m.state != 'new' LIMIT ?", [before, limit])]

    def count_raw_older_than(self, before: str) -> int:
        return self._exec("SELECT count(*) FROM raw_messages r JOIN messages m ON m.id = r.message_pk "
                          "WHERE m.fetched_at < ? AND m.state != 'new'", [before]).fetchone()[0]

    def delete_raw(self, message_ids: list[int]) -> None:
        with self.transaction():
            self._exec(f"DELETE FROM raw_messages WHERE message_pk IN ({','.join('?' * len(message_ids))})",
                       message_ids)

    def closed_cases_older_than(self, before: str) -> list[int]:
        """Cases quiet since ``before`` with nothing left to do: no draft waiting, nothing to send,
        no job to run."""
        return [row[0] for row in self._exec(
            "SELECT c.id FROM conversations c WHERE c.last_message_at < ? AND c.customer IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.conversation_id = c.id "
            "                AND d.state IN ('pending', 'failed', 'approved')) "
            "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.conversation_id = c.id AND o.state IN ('queued', 'sending')) "
            "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.conversation_id = c.id AND j.state = 'scheduled') "
            "ORDER BY c.id", [before])]

    def case_contents(self, cases: list[int]) -> tuple[list[int], list[int]]:
        """(message ids, draft ids) in these cases."""
        marks = ",".join("?" * len(cases)) or "NULL"
        messages = [r[0] for r in self._exec(f"SELECT id FROM messages WHERE conversation_id IN ({marks})", cases)]
        drafts = [r[0] for r in self._exec(f"SELECT id FROM drafts WHERE conversation_id IN ({marks})", cases)]
        return messages, drafts
