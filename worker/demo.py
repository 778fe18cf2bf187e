"""``amends demo``: a private Dovecot with a seeded support inbox, and the worker reading it.

The demo only ever talks to a server it started itself on 127.0.0.1, so it cannot touch a
real mailbox even when pointed at a production config by mistake.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import imapclient

from . import demo_mail
from .config import Config
from .dovecot import Dovecot
from .errors import AmendsError

DEMO_PASSWORD = "demo-password"


@dataclass
class DemoServer:
    dovecot: Dovecot
    password: str

    def stop(self) -> None:
        self.dovecot.remove()


def start_server(config: Config) -> DemoServer:
    if config.imap.host not in ("127.0.0.1", "localhost") or config.imap.security != "none":
        raise AmendsError(
            f"amends demo runs its own IMAP server on 127.0.0.1, but {config.path} points at "
            f"{config.imap.host} ({config.imap.security}); use the demo config "
            "config/amends.toml or one with host = \"127.0.0.1\" and security = \"none\""
        )
    password = os.environ.setdefault(config.imap.password_env, DEMO_PASSWORD)
    dovecot = Dovecot.create()
    dovecot.port = config.imap.port
    dovecot.password = password
    try:
        dovecot.start()
    except AmendsError as exc:
        dovecot.remove()
        raise AmendsError(
            f"could not start the demo IMAP server on port {config.imap.port} (is another demo "
            f"running? change imap.port in {config.path}): {str(exc).splitlines()[0]}"
        ) from None
    return DemoServer(dovecot, password)


def seed(config: Config, password: str) -> int:
    """Put the demo mail into the demo inbox; a few are marked read, as a team would have."""
    mails = demo_mail.build(to=config.imap.username)
    with imapclient.IMAPClient("127.0.0.1", port=config.imap.port, ssl=False) as client:
        client.login(config.imap.username, password)
        folder = config.imap.folders[0]
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for i, raw in enumerate(mails):
            client.append(folder, raw, flags=(b"\\Seen",) if i % 4 == 3 else ())
    return len(mails)


def reset_store(config: Config) -> None:
    for suffix in ("", "-wal", "-shm"):
        path = Path(config.store.path + suffix)
        if path.exists():
            path.unlink()
