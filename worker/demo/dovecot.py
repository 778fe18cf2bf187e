"""A private Dovecot IMAP server for the demo and the tests.

Amends never needs this in production (it talks to whatever server the team uses), but the demo
and the test suite need a real IMAP server that starts in a fraction of a second, without
systemd and without touching /etc. Facts this relies on are in ``shared/dovecot-facts.md``.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AmendsError

CONFIG_TEMPLATE = """\
base_dir = {run}/base
state_dir = {run}/state
log_path = {run}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth_mechanisms}
auth_failure_delay = 0 secs
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:{run}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
imap_idle_notify_interval = 1 secs
{oauth_passdb}passdb {{
  driver = static
  mechanisms = plain login
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={run}/mail/%u
}}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = create
  }}
}}
service imap-login {{
  {chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  {chroot}
  inet_listener pop3 {{
    port = 0
  }}
}}
service anvil {{
  {chroot}
}}
"""


class DovecotError(AmendsError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dovecot_binary() -> str:
    """Where Dovecot is: Debian puts it in /usr/sbin, which an ordinary user's PATH leaves out."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(binary):
        raise DovecotError("Dovecot is not installed: run 'sudo apt-get install dovecot-imapd' (make demo does it)")
    return binary


@dataclass(frozen=True)
class _Identity:
    """Who Dovecot's processes and the mail files run as.

    As root, Dovecot refuses to run its login processes or to deliver as root: Debian's
    ``dovenull``, ``dovecot`` and ``mail`` users take those parts. As anyone else, everything
    runs as that user (Dovecot allows it when no process needs to change user or chroot)."""

    uid: int
    gid: int
    login_user: str
    internal_user: str
    internal_group: str
    chroot: str

    @classmethod
    def here(cls) -> "_Identity":
        if os.geteuid() == 0:
            mail = pwd.getpwnam("mail")
            return cls(mail.pw_uid, mail.pw_gid, "dovenull", "dovecot", "dovecot", "")
        me = pwd.getpwuid(os.geteuid()).pw_name
        return cls(os.geteuid(), os.getegid(), me, me, grp.getgrgid(os.getegid()).gr_name, "chroot =")


@dataclass
class Dovecot:
    """One private Dovecot: a run directory and a port.

    Any user name logs in with ``password`` and gets a fresh, empty maildir of its own, so a
    test gets a clean mailbox by picking a new user name, without restarting the server.
    """

    run_dir: Path
    password: str = "amends-test"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    # With an OAuth2 introspection URL, XOAUTH2 logins are checked there (the way a provider's
    # IMAP server checks a bearer token); passwords keep working beside them.
    introspection_url: str | None = None

    @classmethod
    def create(cls, parent: str | None = None) -> "Dovecot":
        dovecot_binary()
        # Short path: Dovecot's unix sockets live under it and have a length limit.
        run_dir = Path(tempfile.mkdtemp(prefix="amends-dc.", dir=parent or "/tmp"))
        for sub in ("", "base", "state", "mail"):
            (run_dir / sub).mkdir(exist_ok=True)
            os.chmod(run_dir / sub, 0o755)
        who = _Identity.here()
        if os.geteuid() == 0:
            os.chown(run_dir / "mail", who.uid, who.gid)
        return cls(run_dir=run_dir)

    @property
    def config_path(self) -> Path:
        return self.run_dir / "dovecot.conf"

    def start(self, timeout: float = 10.0) -> None:
        who = _Identity.here()
        oauth_passdb = ""
        if self.introspection_url:
            settings = self.run_dir / "oauth2.conf.ext"
            settings.write_text(f"introspection_mode = post\nintrospection_url = {self.introspection_url}\n"
                                "force_introspection = yes\nusername_attribute = username\n"
                                "active_attribute = active\nactive_value = true\n")
            oauth_passdb = f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {settings}\n}}\n"
        self.config_path.write_text(
            CONFIG_TEMPLATE.format(
                run=self.run_dir, port=self.port, uid=who.uid, gid=who.gid, password=self.password,
                login_user=who.login_user, internal_user=who.internal_user, internal_group=who.internal_group,
                chroot=who.chroot, oauth_passdb=oauth_passdb,
                oauth_mechanisms=" xoauth2 oauthbearer" if self.introspection_url else "",
            )
        )
        self.process = subprocess.Popen(
            [dovecot_binary(), "-F", "-c", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_for_greeting(timeout)

    def _wait_for_greeting(self, timeout: float) -> None:
        # The port accepts connections even when imap-login is broken: wait for "* OK".
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"* OK"):
                        return
            except OSError as exc:
                last_error = exc
            time.sleep(0.02)
        log = (self.run_dir / "dovecot.log")
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise DovecotError(f"Dovecot did not start on port {self.port}: {last_error}\n{tail}")

    def stop(self) -> None:
        """Kill the whole process group: immediate, where SIGTERM takes seconds."""
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)
