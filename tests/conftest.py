"""Fixtures: a real Dovecot for the session, a clean mailbox per test, configs and workers."""

from __future__ import annotations

import itertools
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import imapclient
import pytest

from worker.config import Config, parse_config
from worker.demo.dovecot import Dovecot
from worker.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
EML = FIXTURES / "eml"
ROOT = Path(__file__).parent.parent
PASSWORD_ENV = "AMENDS_TEST_IMAP_PASSWORD"

AUTOMATED_FIXTURES = sorted(
    p.name
    for p in EML.glob("*.eml")
    if p.name.startswith(("ooo_", "dsn_", "mailing_list", "newsletter", "mdn_", "x_auto", "noreply", "own_address"))
)
UNPARSEABLE_FIXTURES = ["not_an_email.eml"]
HUMAN_FIXTURES = sorted(
    p.name
    for p in EML.glob("*.eml")
    if p.name not in AUTOMATED_FIXTURES and p.name not in UNPARSEABLE_FIXTURES
)


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first, then the parent's
    pid), or None once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def running(pid: int) -> bool:
    """Alive and not a zombie (in a container nobody may reap the orphans)."""
    fields = proc_stat(pid)
    return fields is not None and fields[0] != "Z"


def descendants(pid: int) -> list[tuple[int, str]]:
    """Every process started by ``pid`` and still running (its children's children too), with
    its command line."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = proc_stat(int(entry.name))
        if fields is not None and fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            found.append((child, command.strip()))
            todo.append(child)
    return found


@pytest.fixture(scope="session", autouse=True)
def nothing_left_running() -> Iterator[None]:
    """Tests that leave a parse process or a server behind fail the run: a worker that did
    the same would leak one per crash. multiprocessing's resource tracker ends with us."""
    yield
    left = [f"{command[:120]} (pid {pid})" for pid, command in descendants(os.getpid())
            if "resource_tracker" not in command]
    assert not left, f"still running after the tests: {'; '.join(left)}"


def eml(name: str) -> bytes:
    return (EML / name).read_bytes()


def crlf(raw: bytes) -> bytes:
    """IMAP wants CRLF line ends; fixture files are stored with plain LF."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.fixture(scope="session")
def oauth_provider(tmp_path_factory):
    """An OAuth2 provider on 127.0.0.1 (``tests/oauth_provider.py``): sign-ins, refreshes, and
    the token checks of the IMAP and SMTP servers."""
    from .oauth_provider import start

    provider, servers = start(tmp_path_factory.mktemp("oauth"))
    yield provider
    for server in servers:
        server.shutdown()


@pytest.fixture(scope="session")
def dovecot(oauth_provider) -> Iterator[Dovecot]:
    server = Dovecot.create()
    server.introspection_url = oauth_provider.introspection_url  # XOAUTH2 logins, beside passwords
    server.start()
    yield server
    server.remove()


_users = itertools.count(1)


@dataclass
class Mailbox:
    """One test's own IMAP account on the session's Dovecot: empty when the test starts."""

    server: Dovecot
    user: str

    @property
    def port(self) -> int:
        return self.server.port

    def client(self) -> imapclient.IMAPClient:
        client = imapclient.IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.server.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple[bytes, ...] = ()) -> int:
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, crlf(raw), flags=flags)
        return int(response.split(b"APPENDUID")[1].split()[1].rstrip(b"]"))

    def append_many(self, raws: list[bytes], folder: str = "INBOX") -> None:
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for start in range(0, len(raws), 500):
                client.multiappend(folder, [crlf(r) for r in raws[start : start + 500]])

    def flags(self, folder: str = "INBOX") -> dict[int, tuple]:
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            return {uid: tuple(sorted(d[b"FLAGS"])) for uid, d in client.fetch(client.search("ALL"), ["FLAGS"]).items()}


@pytest.fixture
def mailbox(dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Mailbox:
    monkeypatch.setenv(PASSWORD_ENV, dovecot.password)
    return Mailbox(dovecot, f"support{next(_users)}-{os.getpid()}@example.com")


@pytest.fixture
def make_config(tmp_path: Path, mailbox: Mailbox):
    """Write a TOML config for this test's mailbox (plus extra TOML) and load it."""

    def make(extra: str = "", on: Mailbox | None = None, **imap: object) -> Config:
        box = on or mailbox
        imap.setdefault("draft_since", "all")  # test mail is often dated before the first poll's clock
        imap_lines = "\n".join(f"{k} = {_toml(v)}" for k, v in imap.items())
        text = f"""
[imap]
host = "127.0.0.1"
port = {box.port}
security = "none"
username = "{box.user}"
password_env = "{PASSWORD_ENV}"
reconnect_max_seconds = 1
{imap_lines}

[store]
path = "{tmp_path / 'amends.db'}"

[guard]
own_addresses = ["support@example.com"]
{extra}
"""
        path = tmp_path / "amends.toml"
        path.write_text(text)
        return parse_config(text, str(path))

    return make


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(str(tmp_path / "amends.db"))
    yield s
    s.close()


class WorkerProcess:
    """`amends run` in a child process, with its log readable line by line as it comes."""

    def __init__(self, config: Config, *args: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "--config", config.path, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
        )
        self.lines: list[str] = []
        self._selector = selectors.DefaultSelector()
        os.set_blocking(self.proc.stderr.fileno(), False)
        self._selector.register(self.proc.stderr, selectors.EVENT_READ)
        self._buffer = b""

    def wait_for(self, pattern: str, timeout: float = 15.0, start: int = 0) -> re.Match:
        """Block until a log line from index ``start`` on matches, or fail with the log."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        checked = start
        while True:
            for i in range(checked, len(self.lines)):
                match = regex.search(self.lines[i])
                if match:
                    return match
            checked = len(self.lines)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.proc.poll() is not None and not self._read(0)):
                log = "\n".join(self.lines[-40:])
                raise AssertionError(f"no log line matching {pattern!r} within {timeout}s:\n{log}")
            self._read(remaining)

    def _read(self, timeout: float) -> bool:
        if not self._selector.select(timeout):
            return False
        chunk = self.proc.stderr.read(65536) or b""
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        self.lines.extend(line.decode("utf-8", "replace") for line in lines)
        return bool(chunk)

    def mark(self) -> int:
        """Index to pass as ``start``: only lines logged after this call will match."""
        while self._read(0):
            pass
        return len(self.lines)

    def finish(self, timeout: float = 60) -> int:
        """Wait for the process to exit by itself, reading its log meanwhile."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(min(1.0, max(0.0, deadline - time.monotonic())))
        return self.stop(timeout=1)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        while self._read(1.0):  # the last lines, up to EOF
            pass
        self._selector.close()
        self.proc.stderr.close()
        return code


@pytest.fixture
def worker_process():
    started: list[WorkerProcess] = []

    def start(config: Config, *args: str) -> WorkerProcess:
        process = WorkerProcess(config, *(args or ("run",)))
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()


@pytest.fixture(scope="session")
def encodings_cache(tmp_path_factory) -> Path:
    """Sentence vectors shared by every training in the session: each text is encoded once."""
    return tmp_path_factory.mktemp("encodings") / "encodings.sqlite"


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory, encodings_cache) -> Path:
    """One model trained on the shipped data for the whole session (2 folds: quick)."""
    from classifiers.model import activate
    from classifiers.train import TRAINING_DATA, read_jsonl, train

    directory = tmp_path_factory.mktemp("models")
    classifier = train(list(read_jsonl(TRAINING_DATA)), directory, folds=2, cache=encodings_cache)
    activate(directory, classifier.version)
    return directory


@pytest.fixture(scope="session")
def classifier(model_dir):
    from classifiers.model import load_active

    return load_active(model_dir)


@pytest.fixture
def smtp_sink(tmp_path, oauth_provider):
    from worker.demo.dovecot import free_port
    from worker.demo.smtp_sink import SmtpSink

    sink = SmtpSink(free_port(), directory=tmp_path / "sent-mail", check_token=oauth_provider.check).start()
    yield sink
    sink.stop()


def smtp_toml(sink, model_dir, extra: str = "") -> str:
    return f"""
[classifier]
model_dir = "{model_dir}"

[smtp]
host = "127.0.0.1"
port = {sink.port}
security = "none"
from_address = "support@example.com"
from_name = "Example Support"
message_id_domain = "support.example.com"
{extra}

[drafts]
templates_dir = "{ROOT / 'templates' / 'replies'}"
"""


def mail(key: str, sender: str, subject: str, body: str, hours_ago: float, reply_to: str | None = None,
         now: datetime | None = None) -> bytes:
    """A plain customer mail, Message-ID <key@example.net>, written ``hours_ago`` before now."""
    date = ((now or datetime.now(timezone.utc)) - timedelta(hours=hours_ago)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    thread = f"In-Reply-To: <{reply_to}@example.net>\nReferences: <{reply_to}@example.net>\n" if reply_to else ""
    return (f"From: {sender}\nTo: support@example.com\nSubject: {subject}\nMessage-ID: <{key}@example.net>\n"
            f"Date: {date}\n{thread}Content-Type: text/plain; charset=utf-8\n\n{body}\n").encode()


def label(store: Store, verdicts: dict, now: datetime | None = None) -> None:
    """The classifier's verdict on <key@example.net>, chosen by the test, saved as the worker
    saves it: (complaint, severity, category) per key, or "praise" for thanks."""
    from classifiers.labels import Classification

    for row in store.messages(limit=500):
        key = (row["message_id"] or "").split("@")[0]
        if key in verdicts and not store.classifications(row["id"]):
            praise = verdicts[key] == "praise"
            complaint, severity, category = (False, None, None) if praise else verdicts[key]
            result = Classification(complaint, 0.9 if complaint else 0.1, severity if complaint else None, None,
                                    category if complaint else None, None, ["set by the test"], "test", praise=praise)
            store.save_classification(row["id"], result.to_json(), {}, now or datetime.now(timezone.utc))


def intake(mailbox: Mailbox, worker, store: Store, config: Config, mails: list, now: datetime) -> None:
    """Mail arrives, is stored and labelled, and drafted, as one worker pass would."""
    from worker.desk.review import draft_pending

    for raw, _ in mails:
        mailbox.append(raw)
    with worker.inbox:
        worker.poll(now)
    label(store, {raw.split(b"Message-ID: <", 1)[1].split(b"@", 1)[0].decode(): verdict for raw, verdict in mails}, now)
    draft_pending(store, config, now)


# -- the review pages in a real browser: Debian's Chromium, driven by Playwright ----------------

ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


def login(page, site: dict, name: str = "Tom Baker", password: str = PASSWORD) -> None:
    page.goto(site["url"] + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def desk_toml(support: Mailbox, billing: Mailbox, sink, tmp_path: Path, billing_imap: str = "", shared: str = "") -> str:
    """A desk of two mailboxes on the session's Dovecot: "support" and "billing" (with
    ``billing_imap`` added to its imap table, and ``shared`` TOML at the top level)."""
    return f"""{shared}
[imap]
host = "127.0.0.1"
port = {support.port}
security = "none"
password_env = "{PASSWORD_ENV}"
reconnect_max_seconds = 1
draft_since = "all"

[smtp]
host = "127.0.0.1"
port = {sink.port}
security = "none"
message_id_domain = "desk.example.com"

[store]
path = "{tmp_path / 'desk.db'}"

[classifier]
model_dir = "{tmp_path / 'no-model'}"

[[mailbox]]
name = "support"
imap = {{ username = "{support.user}" }}
smtp = {{ from_address = "{support.user}", from_name = "Support" }}

[[mailbox]]
name = "billing"
team_name = "The billing team"
imap = {{ username = "{billing.user}"{billing_imap} }}
smtp = {{ from_address = "{billing.user}", from_name = "Billing" }}
"""
