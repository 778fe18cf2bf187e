"""``amends demo``: a private Dovecot with a seeded support inbox, and the worker reading it.

The demo only ever talks to a server it started itself on 127.0.0.1, so it cannot touch a
real mailbox even when pointed at a production config by mistake.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

import imapclient

from ..config import DEMO_PATH, Config, to_toml
from ..desk.users import add_user, set_role, set_signature
from ..errors import AmendsError
from ..store import Store
from . import mail as demo_mail
from .dovecot import Dovecot, dovecot_binary, free_port
from .smtp_sink import SmtpSink

DEMO_PASSWORD = "demo-password"


@dataclass
class DemoServer:
    dovecot: Dovecot
    password: str

    def stop(self) -> None:
        self.dovecot.remove()


def check_local(config: Config) -> None:
    """What the demo needs, checked before anything slow (training takes a minute or more)."""
    dovecot_binary()
    local = ("127.0.0.1", "localhost")
    if config.imap.host not in local or config.imap.security != "none" or config.smtp.host not in local:
        raise AmendsError(
            f"amends demo runs its own IMAP server on 127.0.0.1, but {config.path} points at "
            f"{config.imap.host} / {config.smtp.host}; use the demo's config ({DEMO_PATH}), or one with "
            'host = "127.0.0.1" and security = "none"'
        )


def only_one_demo(config: Config) -> IO[str]:
    """Hold the demo's lock for as long as the returned file stays open. Two demos in one
    directory would share the store and the demo login, and each would reset the other's."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    lock = open(config.data_dir / "demo.lock", "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        pid = lock.read().strip() or "?"
        lock.close()
        raise AmendsError(f"a demo is already running in {config.data_dir} (pid {pid}); use that one, e.g. "
                          f"`amends --config {config.data_dir / 'demo-run.toml'} poll --once` beside it, "
                          "or stop it with Ctrl-C first") from None
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_ports(config: Config) -> tuple[Config, list[str]]:
    """The configured ports when free, else free ones (another demo may be running): checked
    before anything slow, so the demo never trains for minutes and then fails on a port."""
    notes: list[str] = []

    def pick(key: str, port: int) -> int:
        if port_free(port):
            return port
        new = free_port()
        notes.append(f"port {port} ({key}) is in use (another demo?); using {new}")
        return new

    imap = dataclasses.replace(config.imap, port=pick("imap.port", config.imap.port))
    smtp = dataclasses.replace(config.smtp, port=pick("smtp.port", config.smtp.port))
    web_port = pick("web.port", config.web.port)
    web = dataclasses.replace(config.web, port=web_port,
                              base_url=config.web.base_url.replace(f":{config.web.port}", f":{web_port}"))
    return dataclasses.replace(config, imap=imap, smtp=smtp, web=web), notes


def write_run_config(config: Config) -> Path:
    """The config the demo really runs with, for commands in another terminal."""
    path = config.data_dir / "demo-run.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_toml(config), encoding="utf-8")
    return path


def start_server(config: Config) -> DemoServer:
    check_local(config)
    password = os.environ.setdefault(config.imap.password_env, DEMO_PASSWORD)
    dovecot = Dovecot.create()
    dovecot.port = config.imap.port
    dovecot.password = password
    try:
        dovecot.start()
    except AmendsError as exc:
        dovecot.remove()
        raise AmendsError(
            f"could not start the demo IMAP server on port {config.imap.port}: {str(exc).splitlines()[0]}"
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


def start_smtp_sink(config: Config, directory: Path) -> SmtpSink:
    try:
        return SmtpSink(config.smtp.port, directory=directory).start()
    except (OSError, RuntimeError) as exc:
        raise AmendsError(f"could not start the demo SMTP sink on port {config.smtp.port}: {exc}") from None


def demo_user(store: Store, now: datetime, roles: Iterable[str]) -> tuple[str, str]:
    """A 'demo' reviewer with a fresh password each run, printed for the person at the keyboard.
    An admin with every role drafts are held for, so the demo's held cases can be approved too."""
    password = secrets.token_urlsafe(12)
    if store.user("demo"):
        from werkzeug.security import generate_password_hash

        store.set_password("demo", generate_password_hash(password, method="scrypt"))
    else:
        add_user(store, "demo", password, True, now)
    if not store.user("demo").get("signs_as"):
        set_signature(store, "demo", "Alex", now)  # replies are signed by a person, not by a login name
    for role in sorted(set(roles)):
        set_role(store, "demo", role, True, now)
    return "demo", password


def ensure_secret_key(config: Config) -> Path:
    """The demo's secret, kept in var/ (mode 0600) so that commands in another terminal sign
    survey links the running demo accepts: `export AMENDS_SECRET_KEY=$(cat var/demo-secret)`."""
    path = config.data_dir / "demo-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    os.environ.setdefault(config.web.secret_key_env, path.read_text().strip())
    return path


def serve_web(config: Config) -> Callable[[], None]:
    """The review pages in a background thread; returns the function that stops them."""
    from waitress import create_server

    from ..web import create_app, quiet_server_logs

    quiet_server_logs()
    server = create_server(create_app(config), host=config.web.host, port=config.web.port, threads=4)
    thread = threading.Thread(target=server.run, name="web", daemon=True)
    thread.start()
    return server.close


def reset_store(config: Config) -> None:
    for suffix in ("", "-wal", "-shm"):
        path = Path(config.store.path + suffix)
        if path.exists():
            path.unlink()
