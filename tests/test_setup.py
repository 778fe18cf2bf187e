"""The first hour: set-up that just works for an ordinary user, clear commands, quiet output."""

import dataclasses
import logging
import os
import shutil
import smtplib
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from worker.cli import main
from worker.config import load_config, parse_config
from worker.demo.run import choose_ports, only_one_demo, write_run_config
from worker.errors import AmendsError, ConfigError
from worker.desk.outbox import SendSummary
from worker.desk.report import root_causes
from worker.demo.smtp_sink import SmtpSink

from .conftest import ROOT

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
CHILD = """
import imaplib, os, sys
sys.path.insert(0, sys.argv[1])
from worker.demo.dovecot import Dovecot
server = Dovecot.create(parent=sys.argv[2])
try:
    server.start()
    imap = imaplib.IMAP4("127.0.0.1", server.port)
    imap.login("someone@example.com", server.password)
    imap.append("INBOX", None, None, b"Subject: hi\\r\\n\\r\\nhello\\r\\n")
    imap.select("INBOX")
    print("stored", imap.search(None, "ALL")[1][0].decode(), "as uid", os.geteuid())
finally:
    server.remove()
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="as an ordinary user, every other test already runs this way")
def test_dovecot_runs_as_an_ordinary_user():
    """The demo and the tests need no root: Dovecot runs as whoever starts it, found where
    Debian puts it even though an ordinary user's PATH has no /usr/sbin."""
    shared = Path("/tmp") / f"amends-nobody-{os.getpid()}"
    shared.mkdir(mode=0o777, exist_ok=True)
    os.chmod(shared, 0o777)
    package = shared / "worker"
    (package / "demo").mkdir(parents=True, exist_ok=True)
    for name in ("__init__.py", "errors.py", "demo/__init__.py", "demo/dovecot.py"):
        shutil.copy(ROOT / "worker" / name, package / name)
    script = shared / "child.py"
    script.write_text(CHILD)
    for path in (package, *package.rglob("*"), script):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)

    def as_nobody():
        os.setgid(65534)
        os.setgroups([])
        os.setuid(65534)

    try:
        python = shutil.which("python3", path="/usr/bin:/usr/local/bin") or sys.executable
        done = subprocess.run([python, str(script), str(shared), str(shared)], preexec_fn=as_nobody,
                              capture_output=True, text=True, cwd=str(shared), timeout=60,
                              env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(shared)})  # no /usr/sbin
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == "stored 1 as uid 65534"
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_the_demo_takes_free_ports_when_its_own_are_busy(tmp_path):
    config = load_config(str(ROOT / "config" / "demo.toml"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        config = parse_config((ROOT / "config" / "demo.toml").read_text().replace("port = 11025", f"port = {taken}"),
                              "config/demo.toml")
        chosen, notes = choose_ports(config)
    assert chosen.smtp.port != taken and notes == [f"port {taken} (smtp.port) is in use (another demo?); using "
                                                   f"{chosen.smtp.port}"]
    assert chosen.imap.port == config.imap.port  # a free one is kept
    chosen = dataclasses.replace(chosen, store=dataclasses.replace(chosen.store, path=str(tmp_path / "amends.db")))
    run = write_run_config(chosen)  # what commands in another terminal use
    assert run == tmp_path / "demo-run.toml" and load_config(str(run)).smtp.port == chosen.smtp.port


def test_a_second_demo_in_the_same_directory_is_refused_with_one_line(tmp_path):
    config = parse_config(f'[imap]\nusername = "demo"\n[store]\npath = "{tmp_path / "amends.db"}"\n', "demo.toml")
    first = only_one_demo(config)
    with pytest.raises(AmendsError, match=f"a demo is already running in {tmp_path} \\(pid {os.getpid()}\\)"):
        only_one_demo(config)
    first.close()  # the first demo ends: the next may start
    only_one_demo(config).close()


def test_a_hung_test_fails_the_run_with_every_threads_stack(tmp_path):
    (tmp_path / "test_hangs.py").write_text(
        "import threading\n\n"
        "def test_waits_for_ever():\n"
        "    helper = threading.Thread(target=threading.Event().wait, name='helper-thread', daemon=True)\n"
        "    helper.start()\n"
        "    threading.Event().wait()\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", str(ROOT / "pyproject.toml"),
                           "--rootdir", str(tmp_path), "-o", "timeout=2", str(tmp_path / "test_hangs.py")],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode != 0
    assert "Timeout" in done.stdout + done.stderr and "helper-thread" in done.stdout + done.stderr
    assert "test_waits_for_ever" in done.stdout + done.stderr


def test_the_demo_has_its_own_config_and_amends_toml_is_the_users(tmp_path, monkeypatch):
    assert "config/amends.toml" in (ROOT / ".gitignore").read_text().splitlines()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AMENDS_CONFIG", raising=False)
    result = CliRunner().invoke(main, ["demo", "--once"])
    assert result.exit_code == 2 and "config/demo.toml" in result.output and "not found" in result.output
    assert not (tmp_path / "config").exists()


def test_user_commands(tmp_path, store):
    config = tmp_path / "c.toml"
    config.write_text(f'[imap]\nusername = "s@example.com"\n[store]\npath = "{store.path}"\n')
    run = CliRunner().invoke
    base = ["--config", str(config), "user"]
    added = run(main, [*base, "add", "Tom Baker"], input="short\ncorrect horse battery\ncorrect horse battery\n")
    assert added.exit_code == 0 and "at least 10 characters" in added.output and "User Tom Baker added" in added.output
    again = run(main, [*base, "add", "tom baker"], input="never asked\n")
    assert again.exit_code == 1 and "already a user" in again.output and "Password" not in again.output
    assert run(main, [*base, "role", "Tom Baker", "legal"]).exit_code == 0
    assert run(main, [*base, "email", "Tom Baker", "tom@example.com"]).exit_code == 0
    assert run(main, [*base, "set-admin", "Tom Baker"]).exit_code == 0
    listed = run(main, [*base, "list", "--json"])
    assert '"roles": [\n      "legal"\n    ]' in listed.output and '"admin": true' in listed.output
    assert run(main, [*base, "set-admin", "Tom Baker", "--no"]).exit_code == 0
    assert run(main, [*base, "remove", "Tom Baker", "--yes"]).exit_code == 0
    assert store.user("Tom Baker") is None
    missing = run(main, [*base, "passwd", "Nobody Here"])
    assert missing.exit_code == 1 and "no user called" in missing.output and "Password" not in missing.output


def test_secret_says_where_the_key_goes():
    result = CliRunner().invoke(main, ["secret"])
    key, *advice = result.output.splitlines()
    assert len(key) >= 43 and "export AMENDS_SECRET_KEY" in "\n".join(advice)


def test_the_summary_says_what_was_sent_to_whom():
    summary = SendSummary()
    for kind, to in [("leadership_alert", "boss@example.com")] * 3 + [("reply", "ann@example.net")]:
        summary.record({"kind": kind, "to_addr": to})
    assert summary.describe() == "sent 3 leadership alerts to boss@example.com; 1 reply to customers"
    assert SendSummary().describe() == "nothing sent"


def test_root_causes_are_phrases_that_set_a_category_apart_not_names_or_greetings():
    complaints = [{"category": "delivery", "new_text": f"Dear Sir or Madam, good morning. The courier left it in a "
                   f"safe place again and it was stolen. Sarah {i}"} for i in range(3)]
    other = [{"from_name": "Sarah Whitfield", "new_text": "Dear Sir or Madam, good morning. Do you sell gift cards?"}
             for _ in range(20)]
    terms = dict(root_causes(complaints, [*other, *({"from_name": "Sarah Whitfield", **c} for c in complaints)]))
    words = [t for t, _ in terms["delivery"]]
    assert "safe place" in words and ("courier left" in words or "courier" in words)
    assert not {"sarah", "dear", "madam", "morning", "good"} & {w for t in words for w in t.split()}


def test_the_report_page_has_no_broken_images(store, tmp_path):
    from worker.desk.users import add_user
    from worker.web import create_app

    config = parse_config(f'[imap]\nusername = "s@example.com"\n[store]\npath = "{store.path}"\n')
    add_user(store, "Ada Admin", "correct horse battery", True, NOW)
    app = create_app(config, secret_key="x" * 40)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/login", data={"name": "Ada Admin", "password": "correct horse battery"})
    page = client.get("/report").get_data(as_text=True)
    for src in [part.split('"', 1)[0] for part in page.split('<img src="')[1:]]:
        assert client.get(src).status_code == 200, src


def test_a_misspelt_remedy_table_is_named():
    with pytest.raises(ConfigError, match=r"drafts\.remedies\.bilings.*unknown category"):
        parse_config('[imap]\nusername = "s@example.com"\n[drafts.remedies.bilings]\nlow = "x"\n', "amends.toml")


def test_the_smtp_sink_keeps_quiet(caplog, tmp_path):
    from worker.demo.dovecot import free_port

    sink = SmtpSink(free_port(), directory=tmp_path).start()
    try:
        with caplog.at_level(logging.INFO), smtplib.SMTP("127.0.0.1", sink.port) as client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nhi\r\n")
    finally:
        sink.stop()
    assert not [r for r in caplog.records if r.name == "mail.log" and r.levelno < logging.WARNING]


def test_tables_use_the_terminal_width_and_cut_only_what_does_not_fit(monkeypatch, capsys):
    from worker.cli.kit import print_rows

    columns = [("id", 4), ("subject", 20), ("from", 16)]
    rows = [["1", "My order #48213 still hasn't arrived after two weeks", "sarah.whitfield@gmail.example"]]
    monkeypatch.setenv("COLUMNS", "220")
    print_rows(columns, rows)
    wide = capsys.readouterr().out.splitlines()
    assert wide[1].split("  ")[1:] and "after two weeks" in wide[1] and "sarah.whitfield@gmail.example" in wide[1]
    monkeypatch.setenv("COLUMNS", "60")
    print_rows(columns, rows)
    narrow = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in narrow) <= 60 and "…" in narrow[1]
    assert narrow[1].startswith("1   ") and "sarah.whitfield@gmail.example" in narrow[1]  # the widest was cut first


def test_detect_commands_need_no_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AMENDS_CONFIG", raising=False)
    listed = CliRunner().invoke(main, ["model", "list"])
    assert listed.exit_code == 0 and "version" in listed.output and "config" not in listed.output
    classified = CliRunner().invoke(main, ["classify"], input="My parcel never came.")
    assert classified.exit_code == 1 and "amends train" in classified.output and "config" not in classified.output
    polled = CliRunner().invoke(main, ["poll", "--once"])  # a command that reads mail still needs one
    assert polled.exit_code == 2 and "config/amends.toml" in polled.output
