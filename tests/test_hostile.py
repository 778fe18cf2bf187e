"""Anyone can send the inbox anything: hostile mail is parsed in bounded time and never
borrows someone else's identity. The fixtures are made here, not kept as megabytes in git."""

import time

import pytest

from worker.desk.context import build_context
from worker.mail.parse import parse_message
from worker.mail.text import html_texts

from .conftest import eml, smtp_toml


def mail(body: str, *, headers: str = "", content_type: str = "text/plain") -> bytes:
    base = {"From": "Jo Bloggs <jo@customer.example>", "To": "support@example.com", "Subject": "Order 4471",
            "Message-ID": "<hostile@customer.example>"}
    lines = dict(base)
    for line in filter(None, headers.split("\r\n")):
        key, _, value = line.partition(": ")
        lines[key] = value
    head = "".join(f"{k}: {v}\r\n" for k, v in lines.items())
    return f"{head}Content-Type: {content_type}; charset=utf-8\r\n\r\n{body}".encode()


HOSTILE = {
    "100,000 nested divs": mail("<div>" * 100_000 + "help" + "</div>" * 100_000, content_type="text/html"),
    "1 MB From": mail("hi", headers="From: " + "a" * 1_000_000),
    "1 MB To": mail("hi", headers="To: " + "a" * 1_000_000),
    "1 MB Cc of dots": mail("hi", headers="Cc: " + "a." * 500_000),
    "1 MB Subject": mail("hi", headers="Subject: " + "x " * 500_000),
    "15 KB of @": mail("@" * 15_000),
    "long digit runs": mail(("1" * 100_000 + " ") * 5),
    "a run of spaces in HTML": mail("<p>" + " " * 500_000 + "</p>", content_type="text/html"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_mail_is_parsed_in_bounded_time(name):
    started = time.perf_counter()
    msg = parse_message(HOSTILE[name])
    build_context(msg.subject, msg.new_text, msg.from_name, msg.signature)
    assert time.perf_counter() - started < 3, name


@pytest.mark.parametrize("content_type", ["text/plain", "text/html"])
def test_a_24_megabyte_body_keeps_its_first_pages_as_text_and_says_so(content_type):
    from worker.mail.parse import MAX_BODY_CHARS

    body = "My order never arrived and I want my money back. " * 500_000  # 24.5 MB
    parsed = parse_message(mail(body if content_type == "text/plain" else f"<p>{body}</p>", content_type=content_type))
    assert parsed.text.startswith("My order never arrived")
    assert MAX_BODY_CHARS <= len(parsed.text) < MAX_BODY_CHARS + 200 and len(parsed.new_text) < MAX_BODY_CHARS + 200
    assert parsed.text.endswith("the original is kept whole.]")


def test_deep_html_still_loses_its_quoted_history():
    html = "<div>" * 5_000 + "My parcel is late.<div class='gmail_quote'>On Monday you wrote: ...</div>" + "</div>" * 5_000
    full, new, _ = html_texts(html)
    assert "On Monday" in full and "On Monday" not in new and "My parcel is late." in new


@pytest.mark.parametrize("header, name", [
    ("=?utf-8?q?sarah.whitfield=40gmail.example?= <attacker@evil.example>", "sarah.whitfield@gmail.example"),
    ('"sarah.whitfield@gmail.example" <attacker@evil.example>', "sarah.whitfield@gmail.example"),
    ("=?utf-8?q?support=40example.com?= <attacker@evil.example>", "support@example.com"),
])
def test_the_sender_is_the_address_not_what_the_display_name_says(header, name):
    msg = parse_message(mail("hi", headers=f"From: {header}"))
    assert msg.from_addr == "attacker@evil.example"
    assert msg.from_name == name


def test_encoded_display_names_are_still_decoded():
    msg = parse_message(mail("hi", headers="From: =?utf-8?q?Andr=C3=A9_Dupont?= <andre@client.example>"))
    assert (msg.from_name, msg.from_addr) == ("André Dupont", "andre@client.example")


def test_a_hostile_mail_between_two_normal_ones_holds_neither_back(mailbox, make_config, store, smtp_sink, model_dir):
    from worker.loop import Worker

    mailbox.append(eml("gmail_complaint_delivery.eml"))
    mailbox.append(HOSTILE["100,000 nested divs"])
    mailbox.append(eml("question.eml"))
    worker = Worker(make_config(smtp_toml(smtp_sink, model_dir)), store)
    started = time.perf_counter()
    with worker.inbox:
        summary = worker.tick(_now())
    assert time.perf_counter() - started < 30
    assert summary.new == 3
    states = [m["state"] for m in store.messages(limit=10)]
    assert states.count("parsed") == 3, states


def _now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def test_terminal_escapes_in_mail_never_reach_the_terminal(mailbox, make_config, store):
    from click.testing import CliRunner

    from worker.cli import main
    from worker.loop import Worker

    mailbox.append(mail("Look: \x1b]0;pwned\x07 and \x1b[2J cleared \u202eevil",
                        headers="Subject: \x1b[31mURGENT\x1b[0m [bold]refund[/bold]"))
    config = make_config()
    worker = Worker(config, store)
    with worker.inbox:
        worker.poll(_now())
    runner = CliRunner()
    listed = runner.invoke(main, ["--config", config.path, "messages", "list"])
    (row,) = store.messages(limit=5)
    shown = runner.invoke(main, ["--config", config.path, "messages", "show", str(row["id"])])
    for result in (listed, shown):
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
    assert "[bold]refund[/bold]" in shown.output and "URGENT" in shown.output


def test_models_and_the_encodings_cache_are_readable_by_their_owner_only(model_dir, encodings_cache):
    import stat

    version = (model_dir / "ACTIVE").read_text().strip()
    for path, mode in ((model_dir, 0o700), (model_dir / version, 0o700), (encodings_cache, 0o600)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_the_database_is_readable_by_its_owner_only(tmp_path):
    import stat

    from worker.store import Store

    store = Store.open(str(tmp_path / "var" / "amends.db"))
    store.audit("test", "wrote", "message", None, {}, _now())
    for path, mode in ((tmp_path / "var", 0o700), (tmp_path / "var" / "amends.db", 0o600),
                       (tmp_path / "var" / "amends.db-wal", 0o600)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
    store.close()
    (tmp_path / "var" / "amends.db").chmod(0o644)  # made by an earlier version
    Store.open(str(tmp_path / "var" / "amends.db")).close()
    assert stat.S_IMODE((tmp_path / "var" / "amends.db").stat().st_mode) == 0o600


def test_a_short_secret_key_is_refused_with_a_way_to_make_one(tmp_path, monkeypatch):
    from worker.config import load_config
    from worker.errors import ConfigError

    path = tmp_path / "amends.toml"
    path.write_text('[imap]\nusername = "s@example.com"\n')
    monkeypatch.setenv("AMENDS_SECRET_KEY", "x")
    with pytest.raises(ConfigError, match="web.secret_key_env: AMENDS_SECRET_KEY has 1 bytes; it needs at least 32.*secrets"):
        load_config(str(path)).secret_key()
    monkeypatch.setenv("AMENDS_SECRET_KEY", "k" * 32)
    assert load_config(str(path)).secret_key() == "k" * 32


def _app(tmp_path, web=""):
    from worker.config import load_config
    from worker.web import create_app

    path = tmp_path / "amends.toml"
    path.write_text(f'[imap]\nusername = "s@example.com"\n[store]\npath = "{tmp_path / "a.db"}"\n[web]\n{web}\n')
    return create_app(load_config(str(path)), secret_key="test-secret-" + "x" * 32)


def test_an_oversized_request_is_refused_before_it_is_read(tmp_path):
    client = _app(tmp_path).test_client()
    response = client.post("/login", data={"name": "a", "password": "p" * 2_000_000})
    assert response.status_code == 413


@pytest.mark.parametrize("base_url, secure", [("https://desk.example.com", True), ("http://127.0.0.1:8025", False)])
def test_session_cookies_are_secure_behind_https(tmp_path, base_url, secure):
    response = _app(tmp_path, f'base_url = "{base_url}"').test_client().get("/login")
    cookie = response.headers["Set-Cookie"]
    assert ("Secure" in cookie) is secure and "HttpOnly" in cookie


@pytest.mark.parametrize("charset", ["undefined", "rot13", "base64", "no-such-charset"])
def test_a_charset_label_that_is_not_a_text_encoding_falls_back(charset):
    raw = mail("My order is late, caf\u00e9.").replace(b"charset=utf-8", f'charset="{charset}"'.encode())
    assert parse_message(raw).new_text == "My order is late, caf\u00e9."


def _site_with_user(tmp_path):
    from worker.store import Store
    from worker.desk.users import add_user

    app = _app(tmp_path)
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own browser tests; here: throttling and sessions
    store = Store.open(str(tmp_path / "a.db"))
    add_user(store, "Tom Baker", "correct horse battery", False, _now())
    add_user(store, "Ann Lee", "another long password", False, _now())
    return app, store


def test_wrong_passwords_slow_down_both_the_name_and_the_address(tmp_path):
    app, store = _site_with_user(tmp_path)
    client = app.test_client()
    for _ in range(5):
        assert client.post("/login", data={"name": "Tom Baker", "password": "guess"}).status_code == 401
    right = client.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"})
    assert right.status_code == 429 and 0 < int(right.headers["Retry-After"]) <= 30
    assert b"Too many wrong passwords" in right.data
    other = client.post("/login", data={"name": "Ann Lee", "password": "another long password"})
    assert other.status_code == 429  # the same address
    store._exec("UPDATE login_failures SET blocked_until = '2000-01-01T00:00:00+00:00'")
    assert client.post("/login", data={"name": "Tom Baker", "password": "guess"}).status_code == 401
    again = client.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"})
    assert again.status_code == 429 and 30 < int(again.headers["Retry-After"]) <= 60  # doubled
    store._exec("UPDATE login_failures SET blocked_until = '2000-01-01T00:00:00+00:00'")
    assert client.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"}).status_code == 302
    assert [r[0] for r in store._exec("SELECT key FROM login_failures")] == ["address:127.0.0.1"]  # Tom's are forgiven


def test_a_strangers_guesses_cannot_lock_the_owner_out_of_their_own_browser(tmp_path):
    app, store = _site_with_user(tmp_path)
    mine, stranger = app.test_client(), app.test_client()
    assert mine.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"}).status_code == 302
    mine.post("/logout")
    for _ in range(6):
        stranger.post("/login", data={"name": "Tom Baker", "password": "guess"})
    assert stranger.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"}).status_code == 429
    assert mine.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"}).status_code == 302
    forged = app.test_client()
    forged.set_cookie("amends_device", mine.get_cookie("amends_device").value[:-2] + "xx")
    assert forged.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"}).status_code == 429


def test_a_right_password_on_one_account_does_not_wipe_what_the_address_tried_on_others(tmp_path):
    app, store = _site_with_user(tmp_path)
    client = app.test_client()
    for _ in range(4):
        assert client.post("/login", data={"name": "Ann Lee", "password": "guess"}).status_code == 401
    assert client.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"}).status_code == 302
    assert client.post("/login", data={"name": "Ann Lee", "password": "guess"}).status_code == 401  # the fifth
    assert client.post("/login", data={"name": "Ann Lee", "password": "another long password"}).status_code == 429


def test_logging_out_ends_every_copy_of_the_session(tmp_path):
    app, store = _site_with_user(tmp_path)
    mine, stolen = app.test_client(), app.test_client()
    assert mine.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"}).status_code == 302
    cookie = mine.get_cookie("amends_session")
    stolen.set_cookie("amends_session", cookie.value)
    assert stolen.get("/").status_code == 200
    assert mine.post("/logout").status_code == 302
    assert stolen.get("/").status_code == 302 and "/login" in stolen.get("/").headers["Location"]


def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(tmp_path):
    from werkzeug.security import generate_password_hash

    app, store = _site_with_user(tmp_path)
    client = app.test_client()
    client.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"})
    assert client.get("/").status_code == 200
    store.set_password("Tom Baker", generate_password_hash("a brand new passphrase", method="scrypt"))
    assert client.get("/").status_code == 302


def test_a_message_over_the_size_limit_is_quarantined_from_its_header_alone(mailbox, make_config, store):
    from worker.loop import Worker

    mailbox.append(eml("question.eml"))
    mailbox.append(mail("x" * 3_000_000))
    mailbox.append(eml("praise.eml"))
    worker = Worker(make_config(max_message_bytes=1_000_000), store)
    with worker.inbox:
        worker.poll(_now())
    (big,) = store.quarantined()
    assert big["quarantine_reason"].startswith("too large: 3,000,")
    assert len(store.raw(big["id"])) < 2_000  # the header: the body never crossed the network
    assert len(store.messages(limit=10, state="parsed")) == 2


def test_batches_are_cut_by_bytes_and_keep_uid_order(mailbox, make_config):
    from worker.mail.inbox import Inbox

    for i in range(5):
        mailbox.append(mail(f"{i}" * 300_000))
    inbox = Inbox(make_config())
    with inbox:
        inbox.select("INBOX")
        uids = inbox.new_uids(0)
        batches = list(inbox.batches(uids, size=100, limit=10_000_000, max_bytes=1_000_000))
    assert [len(b) for b in batches] == [3, 2]
    assert [f.uid for b in batches for f in b] == sorted(uids)


def test_a_display_name_posing_as_another_address_is_named_but_never_trusted():
    from worker.mail.parse import address_in_name

    msg = parse_message(mail("hi", headers="From: =?utf-8?q?sarah.whitfield=40gmail.example?= <attacker@evil.example>"))
    assert address_in_name(msg.from_name, msg.from_addr) == "sarah.whitfield@gmail.example"
    assert address_in_name("Sarah Whitfield", "sarah@gmail.example") is None
    assert address_in_name("sarah@gmail.example", "sarah@gmail.example") is None


def test_the_draft_page_warns_when_the_name_poses_as_another_address(mailbox, make_config, store, smtp_sink, model_dir):
    from worker.loop import Worker
    from worker.desk.users import add_user
    from worker.web import create_app

    mailbox.append(mail("My order 4471 is three weeks late and nobody answers. I want a refund.",
                        headers="From: =?utf-8?q?sarah.whitfield=40gmail.example?= <attacker@evil.example>"))
    config = make_config(smtp_toml(smtp_sink, model_dir))
    worker = Worker(config, store)
    with worker.inbox:
        worker.tick(_now())
    (draft,) = store.drafts(state="pending")
    assert draft["to_addr"] == "attacker@evil.example"
    add_user(store, "Tom Baker", "correct horse battery", False, _now())
    app = create_app(config, secret_key="test-secret-" + "x" * 32)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"})
    page = client.get(f"/drafts/{draft['id']}").get_data(as_text=True)
    assert 'id="posing-as"' in page
    assert "shows the address sarah.whitfield@gmail.example, but this mail came from attacker@evil.example" in page


def test_a_message_over_the_parse_budget_is_quarantined_and_the_rest_go_on(mailbox, make_config, store):
    from worker.loop import Worker

    mailbox.append(eml("question.eml"))
    mailbox.append(HOSTILE["100,000 nested divs"])  # about a second of parsing: over a 0.05 s budget
    mailbox.append(eml("praise.eml"))
    worker = Worker(make_config(parse_budget_seconds=0.05), store)
    with worker.inbox:
        worker.poll(_now())
    (slow,) = store.quarantined()
    assert slow["quarantine_reason"] == "too slow: parsing took over 0.05 s (imap.parse_budget_seconds)"
    assert len(store.messages(limit=10, state="parsed")) == 2


def test_the_running_worker_holds_each_message_to_the_parse_budget(mailbox, make_config, worker_process):
    # `amends run` with one mailbox: the budget is a timer signal, which only the main thread gets.
    mailbox.append(HOSTILE["100,000 nested divs"])
    mailbox.append(eml("praise.eml"))
    worker = worker_process(make_config(parse_budget_seconds=0.05))
    worker.wait_for(r"took over 0.05 s to parse; quarantined, the others go on")
    worker.wait_for(r"stored 2 new message\(s\) \(0 automated, 1 quarantined\)")
    assert worker.stop() == 0


def test_a_worker_in_a_thread_parses_in_a_process_where_the_budget_holds(mailbox, make_config, store, monkeypatch):
    # Each mailbox of a desk has a thread, and a timer signal reaches the main thread only.
    import threading

    from worker.loop import Worker

    mailbox.append(HOSTILE["100,000 nested divs"])
    mailbox.append(eml("praise.eml"))
    worker = Worker(make_config(parse_budget_seconds=0.05), store)

    def poll():
        with worker.inbox:
            worker.poll(_now())

    thread = threading.Thread(target=poll)
    thread.start()
    thread.join(60)
    (slow,) = store.quarantined()
    assert slow["quarantine_reason"] == "too slow: parsing took over 0.05 s (imap.parse_budget_seconds)"
    assert len(store.messages(limit=10, state="parsed")) == 1

    monkeypatch.setenv("AMENDS_FAILPOINT", "parse-process:kill")  # the next process dies on its first batch
    worker.close_parse_process()
    mailbox.append(eml("question.eml"))
    thread = threading.Thread(target=poll)
    thread.start()
    thread.join(60)
    assert len(store.messages(limit=10, state="parsed")) == 2  # parsed here after all
    monkeypatch.delenv("AMENDS_FAILPOINT")
    mailbox.append(HOSTILE["100,000 nested divs"].replace(b"hostile@customer", b"hostile-2@customer"))
    thread = threading.Thread(target=poll)
    thread.start()
    thread.join(60)
    worker.close()
    assert len(store.quarantined()) == 2  # a new process took over, and the budget holds again


def test_the_budget_leaves_nothing_behind():
    import signal

    from worker.mail.parse_pool import OverBudget, Watchdog

    with Watchdog(0.01) as watchdog:
        with pytest.raises(OverBudget):
            watchdog.arm()
            try:
                while True:
                    pass
            finally:
                watchdog.disarm()
        watchdog.arm()  # the next message starts afresh
        watchdog.disarm()
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None, signal.default_int_handler)


def test_user_passwd_ends_open_sessions_and_secret_prints_a_usable_key(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from worker.cli import main
    from worker.config import load_config

    app, store = _site_with_user(tmp_path)
    client = app.test_client()
    client.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"})
    assert client.get("/").status_code == 200
    config = tmp_path / "amends.toml"
    runner = CliRunner()
    short = runner.invoke(main, ["--config", str(config), "user", "passwd", "Tom Baker"], input="short\nshort\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    changed = runner.invoke(main, ["--config", str(config), "user", "passwd", "Tom Baker"],
                            input="a brand new passphrase\na brand new passphrase\n")
    assert changed.exit_code == 0 and "open sessions have ended" in changed.output
    assert client.get("/").status_code == 302
    key = runner.invoke(main, ["secret"]).stdout.splitlines()[0]
    monkeypatch.setenv("AMENDS_SECRET_KEY", key)
    assert load_config(str(config)).secret_key() == key
