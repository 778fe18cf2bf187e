"""The SMTP edge: every approved message is sent once, and only once.

The bytes and the Message-ID are in the outbox before any SMTP call. Sending walks a row
through states, committing each before the next side effect:

    queued --(stage: connect)--> sending --(354, stage: data)--> body, SMTP 250 --> sent --> filed in Sent

A crash before the server's 354 leaves nothing at the server (and a transaction cut off before
the final dot is discarded): send again. A crash after it leaves the row "sending" at stage
"data": the server may have the message. Then the Sent
folder is the evidence: found there, it was sent; not found and the provider files submitted
mail itself (``provider_saves_sent``), it was not; not found otherwise, nobody can tell, so the
reply is held as failed for a person to check. Amends never guesses its way to a second copy.

Each write before an SMTP step names the sender's claim (``claims.renew``): a sender whose
lease ran out while it was paused, and whose row another process took over, finds the write
refused and drops the connection before the body goes. And a customer-facing message is looked
for in the Sent folder before its first attempt, so a database that lost its last writes (a
deleted WAL, a restored backup) cannot send a reply the customer already has.
"""

from __future__ import annotations

import logging
import random
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import SMTP as SMTP_POLICY
from typing import TYPE_CHECKING

from ..config import Config
from ..errors import MailboxError
from ..failpoints import failpoint
from ..mail.inbox import TRANSIENT as IMAP_TRANSIENT, Inbox
from ..mail.oauth import smtp_auth_object
from ..store import Store, iso
from ..store.claims import Claim, LostClaim, claimed, renew
from .review import refresh_promise

if TYPE_CHECKING:
    from ..mail.oauth import Tokens

log = logging.getLogger(__name__)

UNCERTAIN = (
    "Amends stopped while the SMTP server was accepting this message, and it is not in the Sent "
    "folder, so it may or may not have reached the customer. Check with the customer or the mail "
    "provider before sending it again."
)


CUSTOMER_FACING = ("reply", "follow_up", "survey")


@dataclass
class SendSummary:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    filed: int = 0
    to: dict[str, list[str]] = field(default_factory=dict)  # kind -> recipients, in order

    def record(self, row: dict) -> None:
        self.sent += 1
        self.to.setdefault(row["kind"], []).append(row["to_addr"])

    def describe(self) -> str:
        """'2 replies to customers; 7 leadership alerts to boss@example.com': what went to whom."""
        if not self.sent:
            return "nothing sent"
        names = {"reply": ("reply", "replies"), "follow_up": ("follow-up", "follow-ups"),
                 "survey": ("survey", "surveys"), "leadership_alert": ("leadership alert", "leadership alerts"),
                 "low_score_alert": ("low-score alert", "low-score alerts"), "daily_digest": ("digest", "digests"),
                 "promise_warning": ("promise reminder", "promise reminders")}
        parts = []
        for kind, recipients in self.to.items():
            one, many = names.get(kind, (kind, kind + "s"))
            who = "customers" if kind in CUSTOMER_FACING else ", ".join(dict.fromkeys(recipients))
            parts.append(f"{len(recipients)} {one if len(recipients) == 1 else many} to {who}")
        return "sent " + "; ".join(parts)


def smtp_connect(config: Config, tokens: "Tokens | None" = None) -> smtplib.SMTP:
    smtp = config.smtp
    context = ssl.create_default_context()
    if not smtp.verify_certificates:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if smtp.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_seconds, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
        if smtp.security == "starttls":
            client.starttls(context=context)
    if config.imap.auth == "oauth2":
        if tokens is None:  # never fall back to sending unauthenticated
            client.close()
            raise MailboxError(f"mailbox {config.mailbox_name} signs in with OAuth2 but has no tokens")
        user = smtp.username or config.imap.username
        client.ehlo_or_helo_if_needed()
        client.auth("XOAUTH2", smtp_auth_object(user, tokens.access_token()), initial_response_ok=True)
        return client
    password = config.smtp_password()
    if smtp.username and password:
        client.login(smtp.username, password)
    return client


class Sender:
    """Sends what is due. ``smtp_factory`` and ``inbox`` are the edges; tests use real ones."""

    def __init__(self, config: Config, store: Store, inbox: Inbox | None = None,
                 smtp_factory: Callable[..., smtplib.SMTP] = smtp_connect) -> None:
        self.config = config
        self.store = store
        self.inbox = inbox
        self.smtp_factory = smtp_factory

    # -- the Sent folder ----------------------------------------------------------------------

    def _in_sent_folder(self, message_id: str) -> bool:
        """Whether the Sent folder has the message; a folder that does not exist has nothing."""
        if self.inbox is None:
            return False
        try:
            uids = self.inbox.search_header(self.config.imap.sent_folder, "Message-ID", f"<{message_id}>")
        except MailboxError as exc:
            log.warning("%s", exc)
            return False
        return bool(uids)

    def _file_copy(self, row: dict, now: datetime) -> bool:
        """Keep a copy in the Sent folder, unless the provider does it: the evidence for later.
        Mail to the team (alerts, digests, reminders) is not the team's correspondence with
        customers and stays out of its Sent folder."""
        if self.config.smtp.provider_saves_sent or self.inbox is None or row["kind"] not in CUSTOMER_FACING:
            self.store.update_outbox(row["id"], now, filed_at=iso(now))
            return True
        try:
            if not self._in_sent_folder(row["message_id"]):
                self.inbox.append(self.config.imap.sent_folder, self.store.outbox_raw(row["id"]), flags=(b"\\Seen",))
            self.store.update_outbox(row["id"], now, filed_at=iso(now))
            return True
        except (*IMAP_TRANSIENT, MailboxError) as exc:  # sending goes on; amends status shows what waits
            log.warning("could not file message %s in the Sent folder %r yet (imap.sent_folder): %s",
                        row["message_id"], self.config.imap.sent_folder, exc)
            self.store.update_outbox(row["id"], now, last_error=f"not filed in the Sent folder {self.config.imap.sent_folder!r} "
                                                                  f"(imap.sent_folder) yet: {exc}")
            return False

    # -- one message ------------------------------------------------------------------------------

    def _resolve_in_doubt(self, row: dict, now: datetime) -> str:
        """A row left 'sending' by a crash: 'sent', 'resend' or 'hold'."""
        if row["stage"] != "data":
            return "resend"  # the DATA command never started: the server has nothing
        try:
            found = self._in_sent_folder(row["message_id"])
        except IMAP_TRANSIENT as exc:
            log.warning("cannot check the Sent folder for %s yet: %s", row["message_id"], exc)
            return "wait"
        if found:
            return "sent"
        return "resend" if self.config.smtp.provider_saves_sent else "hold"

    def _deliver(self, row: dict, now: datetime, held: Claim) -> None:
        raw = self.store.outbox_raw(row["id"])
        msg = message_from_bytes(raw, policy=SMTP_POLICY)
        sender = self.config.smtp.from_address
        client = self.smtp_factory(self.config, self.inbox.tokens if self.inbox else None)
        in_data = False
        try:
            client.ehlo_or_helo_if_needed()
            code, reply = client.mail(sender)
            if code >= 400:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            code, reply = client.rcpt(row["to_addr"])
            if code >= 400:
                raise smtplib.SMTPRecipientsRefused({row["to_addr"]: (code, reply)})
            failpoint("smtp-before-data")
            code, reply = client.docmd("DATA")
            if code != 354:
                raise smtplib.SMTPDataError(code, reply)
            in_data = True
            # From here the server may end up with the message: record that before the body goes,
            # and only while the claim is ours (else the connection is dropped: no final dot, no mail).
            with self.store.durable():
                renew(self.store, held, stage="data")
            client.send(dot_stuffed(msg.as_bytes()))
            code, reply = client.getreply()
            in_data = False
            if code >= 400:
                raise smtplib.SMTPDataError(code, reply)
            failpoint("smtp-after-accept")
        finally:
            try:
                if in_data:
                    client.close()  # a QUIT now would be read as part of the body
                else:
                    client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()

    def send_one(self, row: dict, now: datetime, summary: SendSummary, held: Claim) -> None:
        """Send one claimed row; raises ``LostClaim`` when another process took it over."""
        if row["state"] == "sent":
            summary.filed += int(self._file_copy(row, now))
            return
        if row["state"] == "sending":
            decision = self._resolve_in_doubt(row, now)
            if decision == "wait":
                return
            if decision == "sent":
                log.info("message %s was sent before a restart (found in Sent)", row["message_id"])
                self.store.update_outbox(row["id"], now, state="sent", sent_at=iso(now), filed_at=iso(now))
                summary.record(row)
                return
            if decision == "hold":
                log.error("message %s: outcome unknown after a crash; held for a person", row["message_id"])
                self.store.update_outbox(row["id"], now, state="failed", last_error=UNCERTAIN)
                summary.failed += 1
                return
        if row["state"] == "queued" and row["attempts"] == 0 and self._sent_already(row, now, summary):
            return
        if row["promise_hours"]:
            row = refresh_promise(self.store, self.config, row, now)  # "by 11am today" must not be past
        attempts = row["attempts"] + 1
        with self.store.durable():
            renew(self.store, held, state="sending", stage="connect", attempts=attempts)
        failpoint("smtp-before-connect")
        try:
            self._deliver(row, now, held)
        except smtplib.SMTPResponseException as exc:
            self._failed(row, now, attempts, exc.smtp_code, _words(exc.smtp_error), summary)
            return
        except smtplib.SMTPRecipientsRefused as exc:
            code, words = next(iter(exc.recipients.values()))
            self._failed(row, now, attempts, code, _words(words), summary)
            return
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            stage = self.store.outbox_row(row["id"])["stage"]
            if stage == "data":
                # The connection broke mid-DATA: as uncertain as a crash. Decide on the next pass.
                self.store.update_outbox(row["id"], now, next_attempt_at=iso(now), last_error=str(exc))
                log.warning("message %s: connection lost during DATA (%s); checking Sent next", row["message_id"], exc)
                return
            self._failed(row, now, attempts, 421, f"{type(exc).__name__}: {exc}", summary)
            return
        self.store.update_outbox(row["id"], now, state="sent", sent_at=iso(now), last_error=None)
        failpoint("after-mark-sent")
        log.info("sent %s %s to %s", row["kind"].replace("_", " "), row["message_id"], row["to_addr"])
        summary.record(row)
        summary.filed += int(self._file_copy(dict(row, state="sent"), now))

    def _sent_already(self, row: dict, now: datetime, summary: SendSummary) -> bool:
        """A reply about to go out for the first time that the Sent folder already has was sent
        before the database lost track of it: recorded as sent, not sent again."""
        if row["kind"] not in CUSTOMER_FACING or self.inbox is None:
            return False
        try:
            found = self._in_sent_folder(row["message_id"])
        except IMAP_TRANSIENT as exc:
            log.warning("cannot check the Sent folder for %s yet: %s; not sending it before that",
                        row["message_id"], exc)
            return True
        if found:
            log.warning("message %s is already in the Sent folder although the database had not sent it "
                        "(its last writes were lost?); recorded as sent, not sent again", row["message_id"])
            self.store.update_outbox(row["id"], now, state="sent", sent_at=iso(now), filed_at=iso(now),
                                     last_error="found in the Sent folder before its first attempt: not sent again")
            summary.record(row)
        return found

    def _failed(self, row: dict, now: datetime, attempts: int, code: int, words: str, summary: SendSummary) -> None:
        smtp = self.config.smtp
        error = f"{code} {words}"
        if 400 <= code < 500 and attempts < smtp.max_attempts:
            delay = min(smtp.retry_max_seconds, 30 * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)
            self.store.update_outbox(row["id"], now, state="queued", stage=None, last_error=error,
                                     next_attempt_at=iso(now + timedelta(seconds=delay)))
            log.warning("message %s: temporary failure (%s); retry %d in %.0f s", row["message_id"], error, attempts, delay)
            summary.retried += 1
            return
        if 400 <= code < 500:
            error = f"gave up after {attempts} attempts; last reply: {error}"
        self.store.update_outbox(row["id"], now, state="failed", stage=None, last_error=error)
        log.error("message %s to %s failed: %s", row["message_id"], row["to_addr"], error)
        summary.failed += 1

    def send_due(self, now: datetime) -> SendSummary:
        """Send each due row this process can claim; another process may be sending the rest.

        The lease outlasts every SMTP timeout of one send together, so a live sender never
        loses its row mid-send; a killed one is recognised as gone and its row taken over.
        """
        summary = SendSummary()
        lease = timedelta(seconds=max(300, 10 * self.config.smtp.timeout_seconds))
        for due in self.store.outbox_due(now, self.config.mailbox_name):
            with claimed(self.store, "outbox", due["id"], lease) as held:
                row = self.store.outbox_row(due["id"]) if held else None  # read again: sent meanwhile?
                if row is None or not _still_due(row, now):
                    continue
                try:
                    self.send_one(row, now, summary, held)
                except LostClaim as exc:
                    log.warning("message %s: %s while this process was held up; not sent from here",
                                row["message_id"], exc)
        return summary


def _still_due(row: dict, now: datetime) -> bool:
    if row["state"] == "sent":
        return row["filed_at"] is None
    return row["state"] in ("queued", "sending") and row["next_attempt_at"] <= iso(now)


def dot_stuffed(raw: bytes) -> bytes:
    """The DATA payload: CRLF line ends, leading dots doubled, ended by CRLF.CRLF (RFC 5321)."""
    data = re.sub(rb"\r\n|\r|\n", b"\r\n", raw)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _words(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
