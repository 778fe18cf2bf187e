"""Queries for the mailboxes: each folder's UID cursor and last check, and OAuth2 sign-ins."""

from __future__ import annotations

from datetime import datetime

from ..config import DEFAULT_MAILBOX
from .base import StoreBase, iso


class MailboxQueries(StoreBase):
    def mailbox(self, folder: str, box: str = DEFAULT_MAILBOX) -> dict | None:
        """The UID cursor of one folder of one mailbox."""
        return self._one("SELECT * FROM mailboxes WHERE mailbox = ? AND folder = ?", [box, folder])

    def mailboxes(self) -> list[dict]:
        return list(self.db.query("SELECT * FROM mailboxes ORDER BY mailbox, folder"))

    def reset_mailbox(self, folder: str, uidvalidity: int, box: str = DEFAULT_MAILBOX) -> None:
        """A new UIDVALIDITY makes every old UID meaningless: start the cursor again."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO mailboxes (mailbox, folder, uidvalidity, last_uid) VALUES (?, ?, ?, 0) "
                "ON CONFLICT (mailbox, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = 0",
                [box, folder, uidvalidity],
            )

    def advance_cursor(self, folder: str, last_uid: int, box: str = DEFAULT_MAILBOX) -> None:
        """For a folder read without storing its messages (the Sent folder's headers)."""
        self._exec("UPDATE mailboxes SET last_uid = max(last_uid, ?) WHERE mailbox = ? AND folder = ?",
                   [last_uid, box, folder])

    def record_check(self, folder: str, now: datetime, error: str | None = None, box: str = DEFAULT_MAILBOX) -> None:
        with self.transaction():
            self.db.execute("INSERT OR IGNORE INTO mailboxes (mailbox, folder) VALUES (?, ?)", [box, folder])
            if error is None:
                self.db.execute(
                    "UPDATE mailboxes SET last_check_at = ?, last_error = NULL WHERE mailbox = ? AND folder = ?",
                    [iso(now), box, folder],
                )
            else:
                self.db.execute(
                    "UPDATE mailboxes SET last_error = ?, last_error_at = ? WHERE mailbox = ? AND folder = ?",
                    [error, iso(now), box, folder],
                )

    # -- OAuth2 sign-ins (the refresh token arrives encrypted: the store never sees it) ------------

    def token(self, box: str) -> dict | None:
        return self._one("SELECT * FROM oauth_tokens WHERE mailbox = ?", [box])

    def mailbox_names(self) -> set[str]:
        """Every mailbox the store has read from or signed in to."""
        return {row[0] for row in self._exec("SELECT mailbox FROM mailboxes UNION SELECT mailbox FROM oauth_tokens")}

    def rename_mailbox(self, old: str, new: str) -> int:
        """Carry a mailbox's cursors, locations, messages, cases, outbox and sign-in over to a
        new name, in one transaction; returns the cases moved. Anything read under the new name
        already (Amends ran after the config changed) stays; in folders the old name read too,
        its cursors and locations give way to the old ones, which are behind them, so the next
        pass misses nothing (what it sees again is known by Message-ID)."""
        with self.transaction():
            folders = "SELECT folder FROM mailboxes WHERE mailbox = ?"
            self._exec(f"DELETE FROM locations WHERE mailbox = ? AND folder IN ({folders})", [new, old])
            self._exec(f"DELETE FROM mailboxes WHERE mailbox = ? AND folder IN ({folders})", [new, old])
            self._exec("DELETE FROM oauth_tokens WHERE mailbox = ? AND EXISTS "
                       "(SELECT 1 FROM oauth_tokens WHERE mailbox = ?)", [old, new])  # a sign-in made since wins
            for table in ("mailboxes", "locations", "messages", "outbox", "oauth_tokens"):
                self._exec(f"UPDATE {table} SET mailbox = ? WHERE mailbox = ?", [new, old])
            return self._exec("UPDATE conversations SET mailbox = ? WHERE mailbox = ?", [new, old]).rowcount

    def tokens(self) -> list[dict]:
        return list(self.db.query("SELECT mailbox, state, error, signed_in_at, updated_at FROM oauth_tokens"))

    def save_token(self, box: str, encrypted: bytes, now: datetime, signed_in: bool = False) -> None:
        """A new sign-in (``signed_in``), or a refresh token the provider rotated."""
        with self.transaction():
            self._exec(
                "INSERT INTO oauth_tokens (mailbox, refresh_token, state, signed_in_at, updated_at) "
                "VALUES (?, ?, 'ok', ?, ?) ON CONFLICT (mailbox) DO UPDATE SET refresh_token = excluded.refresh_token, "
                "state = 'ok', error = NULL, updated_at = excluded.updated_at"
                + (", signed_in_at = excluded.signed_in_at" if signed_in else ""),
                [box, encrypted, iso(now), iso(now)])

    def token_failed(self, box: str, error: str, now: datetime) -> None:
        with self.transaction():
            self._exec("UPDATE oauth_tokens SET state = 'needs_sign_in', error = ?, updated_at = ? WHERE mailbox = ?",
                       [error, iso(now), box])
