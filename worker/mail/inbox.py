"""The IMAP edge: connect, read new mail without touching it, wait for more.

Folders are always opened read-only (EXAMINE) and bodies fetched with ``BODY.PEEK[]``, so
Amends cannot set ``\\Seen`` or change anything in the team's mailbox even by mistake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import imapclient
from imapclient.exceptions import IMAPClientError, LoginError

from ..config import Config, ImapConfig

if TYPE_CHECKING:
    from .oauth import Tokens
from ..errors import MailboxError
from ..store import Fetched

log = logging.getLogger(__name__)

# What Amends reads of a message: its bytes, and when the server received it (the date of
# mail with no usable Date header). A whole message's size is its length.
FETCH_ITEMS = [b"BODY.PEEK[]", b"INTERNALDATE"]
HEADER_ITEMS = [b"BODY.PEEK[HEADER]", b"RFC822.SIZE", b"INTERNALDATE"]  # mail over the size limit
BATCH_BYTES = 32 * 1024 * 1024  # one batch in memory at a time: this many bytes at most

# Errors after which reconnecting may help; anything else is a bug or a config problem.
TRANSIENT = (IMAPClientError, OSError, socket.timeout, ssl.SSLError, EOFError)


def connect_problem(exc: OSError, imap: ImapConfig, path: str) -> str:
    """What went wrong reaching the server, in terms of the keys that fix it."""
    where = f"the IMAP server at {imap.host}:{imap.port}"
    if isinstance(exc, ssl.SSLError):
        return (f"no TLS at {where} ({exc.reason or exc}): check imap.security in {path} "
                '("ssl" for port 993, "starttls" or "none" for port 143)')
    if isinstance(exc, TimeoutError):
        return (f"{where} accepted the connection but sent no IMAP greeting in {imap.timeout_seconds:g} s: "
                f"is imap.port in {path} an IMAP port (993 with security = \"ssl\", 143 otherwise)?")
    return (f"cannot reach {where} ({type(exc).__name__}: {exc}); is it running? "
            f"check imap.host and imap.port in {path}; nothing was lost")


class Inbox:
    def __init__(self, config: Config, tokens: "Tokens | None" = None) -> None:
        """``tokens``: the mailbox's OAuth2 access tokens, when it signs in with ``auth = "oauth2"``."""
        self.config = config
        self.tokens = tokens
        self.client: imapclient.IMAPClient | None = None
        self.folder: str | None = None

    def connect(self) -> None:
        imap = self.config.imap
        password = None if imap.auth == "oauth2" else self.config.imap_password()  # a missing one says so first
        context = ssl.create_default_context()
        if not imap.verify_certificates:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            client = imapclient.IMAPClient(
                imap.host,
                port=imap.port,
                ssl=imap.security == "ssl",
                ssl_context=context,
                timeout=imap.timeout_seconds,
            )
            client.normalise_times = False  # INTERNALDATE with its offset, not the machine's local time
        except OSError as exc:  # ssl.SSLError and socket.timeout are OSErrors too
            raise MailboxError(connect_problem(exc, imap, self.config.path)) from None
        try:
            if imap.security == "starttls":
                client.starttls(context)
            if imap.auth == "oauth2":
                if self.tokens is None:
                    raise MailboxError(f"mailbox {self.config.mailbox_name} signs in with OAuth2 but has no tokens")
                client.oauth2_login(imap.username, self.tokens.access_token())
            else:
                client.login(imap.username, password)
        except LoginError as exc:
            client.shutdown()
            how = ("its OAuth2 token (sign in again with `amends auth login "
                   f"{self.config.mailbox_name}` if this goes on)" if imap.auth == "oauth2"
                   else f"the password in ${imap.password_env}")
            raise MailboxError(
                f"IMAP login as {imap.username} at {imap.host}:{imap.port} was refused ({exc}); "
                f"check imap.username and {how}"
            ) from None
        except BaseException:
            client.shutdown()
            raise
        self.client = client
        self.folder = None
        log.info("connected to %s:%s as %s", imap.host, imap.port, imap.username)

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.logout()
            except Exception:
                try:
                    self.client.shutdown()
                except Exception:
                    pass
            self.client = None

    def __enter__(self) -> "Inbox":
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _c(self) -> imapclient.IMAPClient:
        if self.client is None:
            raise RuntimeError("Inbox is not connected")
        return self.client

    def select(self, folder: str, key: str = "imap.folders") -> int:
        """Open a folder read-only; returns its UIDVALIDITY. ``key`` names the config key that
        gave the folder, for the error when it does not exist."""
        try:
            info = self._c.select_folder(folder, readonly=True)
        except IMAPClientError as exc:
            if "nonexistent" in str(exc).lower() or "doesn't exist" in str(exc).lower():
                raise MailboxError(
                    f"IMAP folder {folder!r} does not exist; fix {key} in the config"
                ) from None
            raise
        self.folder = folder
        return int(info[b"UIDVALIDITY"])

    def new_uids(self, after_uid: int) -> list[int]:
        """UIDs above ``after_uid``. This search answers every announcement of new mail made
        before it, so those are forgotten; one that arrives with its response stays for wait()."""
        self._announced()
        # "N:*" always matches the highest UID, even below N: filter.
        uids = self._c.search(["UID", f"{after_uid + 1}:*"])
        return sorted(uid for uid in uids if uid > after_uid)

    def _announced(self) -> bool:
        """Pop "* N EXISTS" / "* N RECENT" that imaplib filed with another command's response
        (idle_check() never looks there); True if there were any."""
        pending = self._c._imap.untagged_responses
        return any([pending.pop("EXISTS", None), pending.pop("RECENT", None)])

    def fetch(self, uids: list[int], headers_only: bool = False) -> list[Fetched]:
        if not uids:
            return []
        response = self._c.fetch(uids, HEADER_ITEMS if headers_only else FETCH_ITEMS)
        fetched = []
        for uid in sorted(response):
            data = response[uid]
            raw = data.get(b"BODY[HEADER]" if headers_only else b"BODY[]")
            if raw is None:  # the message was expunged between SEARCH and FETCH
                continue
            when = data.get(b"INTERNALDATE")
            fetched.append(
                Fetched(
                    uid=uid,
                    raw=bytes(raw),
                    size=int(data.get(b"RFC822.SIZE", len(raw))),
                    internal_date=when if isinstance(when, datetime) else None,
                )
            )
        return fetched

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """RFC822.SIZE of each message, asked before any body is downloaded."""
        sizes: dict[int, int] = {}
        for start in range(0, len(uids), 1000):
            response = self._c.fetch(uids[start : start + 1000], [b"RFC822.SIZE"])
            sizes.update({uid: int(data[b"RFC822.SIZE"]) for uid, data in response.items() if b"RFC822.SIZE" in data})
        return sizes

    def larger(self, uids: list[int], threshold: int) -> dict[int, int]:
        """Size of each of ``uids`` over ``threshold`` bytes. The server finds them (SEARCH
        LARGER), so ordinary mail costs nothing here; only the few large ones are asked about."""
        if not uids:
            return {}
        wanted = set(uids)
        found = [uid for uid in self._c.search(["UID", f"{uids[0]}:{uids[-1]}", "LARGER", str(threshold)])
                 if uid in wanted]
        return self.sizes(sorted(found))

    def batches(self, uids: list[int], size: int, limit: int, max_bytes: int = BATCH_BYTES) -> Iterator[list[Fetched]]:
        """Batches of at most ``size`` messages and ``max_bytes`` bytes, in UID order.

        A message over ``limit`` bytes is never downloaded: it comes alone, as its header only,
        for quarantine. Messages up to ``max_bytes / size`` bytes are counted at that bound
        without asking; only larger ones have their size asked. Each batch is complete before
        the next starts, so the cursor never passes a message that was not stored.
        """
        bound = max(1, min(limit, max_bytes // max(1, size)))
        large = self.larger(uids, bound)
        batch: list[int] = []
        total = 0
        for uid in uids:
            bytes_ = large.get(uid, bound)
            if batch and (len(batch) >= size or total + bytes_ > max_bytes or bytes_ > limit):
                yield self.fetch(batch)
                batch, total = [], 0
            if bytes_ > limit:
                yield self.fetch([uid], headers_only=True)
                continue
            batch.append(uid)
            total += bytes_
        if batch:
            yield self.fetch(batch)

    @property
    def can_idle(self) -> bool:
        return self.config.imap.idle and self._c.has_capability("IDLE")

    def wait(self, seconds: float, stop: threading.Event, wake: Callable[[], bool] = lambda: False) -> bool:
        """Wait for new mail in the selected folder: IDLE where possible, else just wait.

        Returns True when the server announced something. The wait goes in one-second slices
        so that a stop request, or ``wake()`` (other work is due), ends it within a second.
        """
        if not self.can_idle:
            log.debug("waiting for new mail in %s (polling, next check in %d s)", self.folder, seconds)
            deadline = time.monotonic() + seconds
            while not stop.wait(min(1.0, max(0.0, deadline - time.monotonic()))):
                if wake() or time.monotonic() >= deadline:
                    break
            return False
        client = self._c
        if self._announced():  # with the response to the search before this wait
            return True
        client.idle()
        log.debug("waiting for new mail in %s (IDLE, up to %d s)", self.folder, seconds)
        try:
            if self._announced():  # just before "+ idling"
                return True
            remaining = seconds
            while remaining > 0 and not stop.is_set() and not wake():
                if self._buffered():
                    return True  # a pass costs little; a missed message costs a customer
                slice_ = min(1.0, remaining)
                responses = client.idle_check(timeout=slice_)
                remaining -= slice_
                if any(_is_news(r) for r in responses):
                    return True
            return False
        finally:
            client.idle_done()

    def _buffered(self) -> bool:
        """Bytes already read from the socket into imaplib's buffer, unseen by idle_check().

        idle_check() polls the socket; a server line that arrived in the same packet as an
        earlier one is already in the buffered reader, and polling would never see it.
        """
        client = self._c
        sock = client.socket()
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        timeout = sock.gettimeout()
        sock.setblocking(False)
        try:
            return bool(client._imap.file.peek(1))
        except (BlockingIOError, ssl.SSLWantReadError, OSError):
            return False
        finally:
            sock.settimeout(timeout)

    def append(self, folder: str, raw: bytes, flags: tuple[bytes, ...] = ()) -> int | None:
        response = self._c.append(folder, raw, flags=flags)
        text = response.decode("ascii", "replace") if isinstance(response, bytes) else str(response)
        if "APPENDUID" in text:
            return int(text.split("APPENDUID", 1)[1].split()[1].rstrip("]"))
        return None

    def search_header(self, folder: str, name: str, value: str, key: str = "imap.sent_folder") -> list[int]:
        self.select(folder, key)
        return self._c.search(["HEADER", name, value])


def _is_news(response: tuple) -> bool:
    return len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")
