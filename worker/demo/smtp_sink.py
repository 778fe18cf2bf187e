"""A local SMTP server that keeps what it receives: for the demo and the tests.

It writes each message to a directory as an .eml file (and a .txt with its text decoded, for
reading) and keeps it in memory. With
``file_in_sent`` it also files the message in an IMAP Sent folder, as Gmail and Microsoft 365
do with submitted mail, so tests can exercise ``smtp.provider_saves_sent``. ``hold`` lets a
test freeze the server between receiving a message and answering 250.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import imapclient
from aiosmtpd.controller import Controller


@dataclass
class SentFolder:
    host: str
    port: int
    username: str
    password: str
    folder: str = "Sent"

    def file(self, raw: bytes) -> None:
        with imapclient.IMAPClient(self.host, port=self.port, ssl=False) as client:
            client.login(self.username, self.password)
            client.append(self.folder, raw, flags=(b"\\Seen",))


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    login: str | None = None  # who signed in with XOAUTH2 for it, if anyone

    @property
    def message(self):
        return message_from_bytes(self.raw, policy=default)


@dataclass
class SinkHandler:
    directory: Path | None = None
    file_in_sent: SentFolder | None = None
    messages: list[Received] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)
    hold: threading.Event | None = None  # when set by a test: wait for release before the 250
    release: threading.Event = field(default_factory=threading.Event)
    reply: str = "250 OK: queued"
    check_token: Callable[[str, str], bool] | None = None  # (user, bearer token) -> valid?

    async def auth_XOAUTH2(self, server, args):
        """SASL XOAUTH2, as Gmail and Microsoft 365 take it: the token is checked by ``check_token``."""
        from aiosmtpd.smtp import AuthResult

        if self.check_token is None or len(args) < 2:
            return AuthResult(success=False, handled=False)
        try:
            fields = dict(part.split("=", 1) for part in base64.b64decode(args[1]).decode().split("\x01") if "=" in part)
        except (ValueError, UnicodeDecodeError):
            return AuthResult(success=False, handled=False)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        return AuthResult(success=self.check_token(user, token), auth_data=user)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if not self.reply.startswith("250"):
            return self.reply
        login = session.auth_data if getattr(session, "authenticated", False) else None
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, login))
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            taken = [int(path.stem) for path in self.directory.glob("*.eml") if path.stem.isdigit()]
            stem = self.directory / f"{max(taken, default=0) + 1:04d}"  # a restarted demo keeps earlier mail
            stem.with_suffix(".eml").write_bytes(raw)
            stem.with_suffix(".txt").write_text(_readable(raw), encoding="utf-8")
        if self.file_in_sent is not None:
            self.file_in_sent.file(raw)
        self.received.set()
        if self.hold is not None:
            self.hold.set()
            self.release.wait(30)
        return self.reply


def _readable(raw: bytes) -> str:
    """Headers a person looks for, and the text part decoded (links intact, no =-wrapping)."""
    msg = message_from_bytes(raw, policy=default)
    head = "\n".join(f"{name}: {msg[name]}" for name in ("From", "To", "Subject", "Date") if msg[name])
    body = msg.get_body(("plain",))
    return f"{head}\n\n{body.get_content() if body else ''}"


class SmtpSink:
    def __init__(self, port: int, directory: Path | None = None, file_in_sent: SentFolder | None = None,
                 check_token: Callable[[str, str], bool] | None = None) -> None:
        self.handler = SinkHandler(directory=directory, file_in_sent=file_in_sent, check_token=check_token)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port, auth_require_tls=False)
        self.port = port

    def start(self) -> "SmtpSink":
        # aiosmtpd logs every connection at INFO: most of what a demo would print. Keep its warnings.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.controller.start()
        return self

    def stop(self) -> None:
        self.handler.release.set()
        if self.controller._thread is not None:
            self.controller.stop()

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages
