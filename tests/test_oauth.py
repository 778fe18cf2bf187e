"""OAuth2 sign-in for a mailbox (SASL XOAUTH2 to IMAP and SMTP), against a provider on 127.0.0.1:
the device-code flow, refreshes before expiry, a revoked consent, the sign-in kept encrypted."""

import logging
import threading
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from worker.cli import main
from worker.config import ConfigError, parse_config
from worker.loop import Worker, run_desk
from worker.mail.oauth import SignInNeeded, Tokens, decrypt, new_key, sign_in
from worker.desk.review import approve, draft_pending
from worker.store import Store

from .conftest import Mailbox, desk_toml, label, mail

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def oauth_toml(box: Mailbox, provider, sink, tmp_path, name: str = "") -> str:
    return f"""
[imap]
host = "127.0.0.1"
port = {box.port}
security = "none"
username = "{box.user}"
auth = "oauth2"
reconnect_max_seconds = 1
draft_since = "all"

[oauth]
client_id = "amends-test"
authority = "{provider.authority}"
ca_file = "{provider.ca_file}"

[smtp]
host = "127.0.0.1"
port = {sink.port}
security = "none"
from_address = "{box.user}"

[store]
path = "{tmp_path / 'oauth.db'}"

[classifier]
model_dir = "{tmp_path / 'no-model'}"
"""


@pytest.fixture
def signed(mailbox, oauth_provider, smtp_sink, tmp_path, monkeypatch):
    """A mailbox that signs in with OAuth2, signed in once by a person."""
    monkeypatch.setenv("AMENDS_TOKEN_KEY", new_key())
    oauth_provider.lifetime = 3600
    path = tmp_path / "oauth.toml"
    path.write_text(oauth_toml(mailbox, oauth_provider, smtp_sink, tmp_path))
    config = parse_config(path.read_text(), str(path))
    store = Store.open(config.store.path)
    oauth_provider.sign_in_as = mailbox.user
    sign_in(store, config, lambda text: None, NOW)
    yield config, store
    store.close()


def test_sign_in_with_the_device_code_flow_keeps_only_an_encrypted_refresh_token(
        mailbox, oauth_provider, smtp_sink, tmp_path, monkeypatch):
    key = new_key()
    monkeypatch.setenv("AMENDS_TOKEN_KEY", key)
    path = tmp_path / "oauth.toml"
    path.write_text(oauth_toml(mailbox, oauth_provider, smtp_sink, tmp_path))
    oauth_provider.sign_in_as = mailbox.user
    result = CliRunner().invoke(main, ["--config", str(path), "auth", "login"])
    assert result.exit_code == 0, result.output
    assert "enter the code WDJB-MJHT" in result.output and f"signed in as {mailbox.user}" in result.output
    config = parse_config(path.read_text(), str(path))
    store = Store.open(config.store.path)
    row = store.token("default")
    refresh = decrypt(config, row["refresh_token"])
    assert refresh in oauth_provider.refresh and refresh.encode() not in (tmp_path / "oauth.db").read_bytes()
    monkeypatch.setenv("AMENDS_TOKEN_KEY", new_key())  # the store alone, or the wrong key, reads nothing
    with pytest.raises(ConfigError, match="encrypted with another key"):
        decrypt(config, row["refresh_token"])
    monkeypatch.delenv("AMENDS_TOKEN_KEY")
    with pytest.raises(ConfigError, match="AMENDS_TOKEN_KEY is not set"):
        decrypt(config, row["refresh_token"])


def test_the_worker_reads_and_sends_with_xoauth2(signed, mailbox, oauth_provider, smtp_sink):
    config, store = signed
    before = oauth_provider.grants.count("refresh_token")
    mailbox.append(mail("o1", "Ann <ann@example.net>", "Parcel late", "My parcel never came.", 1, now=NOW))
    worker = Worker(config, store)
    with worker.inbox:
        assert worker.poll(NOW).new == 1
    label(store, {"o1": (True, "medium", "delivery")}, NOW)
    draft_pending(store, config, NOW)
    (draft,) = store.drafts()
    approve(store, config, draft["id"], "Tom Baker", NOW)
    with worker.inbox:
        assert worker.sender.send_due(NOW).sent == 1
    (sent,) = smtp_sink.messages
    assert sent.login == mailbox.user  # SMTP AUTH XOAUTH2, the token checked at the provider
    assert oauth_provider.grants.count("refresh_token") == before + 1  # one access token served both


def test_send_once_and_jobs_sign_in_with_xoauth2_too(signed, mailbox, smtp_sink):
    config, store = signed
    mailbox.append(mail("o2", "Ann <ann@example.net>", "Parcel late", "My parcel never came.", 1, now=NOW))
    worker = Worker(config, store)
    with worker.inbox:
        worker.poll(NOW)
    label(store, {"o2": (True, "medium", "delivery")}, NOW)
    draft_pending(store, config, NOW)
    approve(store, config, store.drafts()[0]["id"], "Tom Baker", NOW)
    result = CliRunner().invoke(main, ["--config", config.path, "send", "--once"])
    assert result.exit_code == 0, result.output
    assert "Sent 1" in result.output and smtp_sink.messages[0].login == mailbox.user


def test_a_token_that_expires_during_idle_is_refreshed_and_the_worker_goes_on(
        signed, mailbox, oauth_provider, caplog):
    config, store = signed
    oauth_provider.lifetime = 4  # seconds: the worker must sign in again mid-IDLE, twice or more
    before = oauth_provider.grants.count("refresh_token")  # the provider is the session's: count from here
    stop = threading.Event()
    worker = Worker(config, store)
    caplog.set_level(logging.INFO)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        for _ in range(200):  # ten seconds at most: past two lifetimes
            if oauth_provider.grants.count("refresh_token") >= before + 3:
                break
            stop.wait(0.05)
        mailbox.append(mail("late", "Ann <ann@example.net>", "Still here?", "Is anyone reading this?", 0, now=NOW))
        for _ in range(200):
            if store.messages(limit=5):
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert [r["subject"] for r in store.messages(limit=5)] == ["Still here?"]
    assert oauth_provider.grants.count("refresh_token") >= before + 3
    assert any("signing in again with a fresh token" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_revoked_consent_marks_the_mailbox_and_the_other_mailbox_goes_on(
        dovecot, mailbox, oauth_provider, smtp_sink, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("AMENDS_TOKEN_KEY", new_key())
    billing = Mailbox(dovecot, mailbox.user.replace("support", "billing"))
    path = tmp_path / "desk.toml"
    path.write_text(desk_toml(mailbox, billing, smtp_sink, tmp_path, ', auth = "oauth2"',
                              f'[oauth]\nclient_id = "amends-test"\nauthority = "{oauth_provider.authority}"\n'
                              f'ca_file = "{oauth_provider.ca_file}"\n'))
    config = parse_config(path.read_text(), str(path))
    store = Store.open(config.store.path)
    oauth_provider.sign_in_as = billing.user
    sign_in(store, config.for_mailbox("billing"), lambda text: None, NOW)
    oauth_provider.revoke(billing.user)
    with pytest.raises(SignInNeeded, match="mailbox billing needs sign-in .*amends auth login billing"):
        Tokens(config.for_mailbox("billing"), Store.open(config.store.path)).access_token()
    store.save_token("billing", store.token("billing")["refresh_token"], NOW)  # as if just signed in: tried again
    mailbox.append(mail("p1", "Ann <ann@example.net>", "Password mailbox", "Still works?", 1, now=NOW))
    caplog.set_level(logging.INFO)
    caplog.clear()
    stop = threading.Event()
    thread = threading.Thread(target=run_desk, args=(config, stop), daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if store.messages(limit=5) and store.token("billing")["state"] == "needs_sign_in":
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert [r["subject"] for r in store.messages(limit=5)] == ["Password mailbox"]
    assert store.token("billing")["state"] == "needs_sign_in" and "consent revoked" in store.token("billing")["error"]
    needs = [r for r in caplog.records if "billing needs sign-in" in r.getMessage() and r.levelno == logging.ERROR]
    assert len(needs) == 1  # one clear line, not one per retry
    status = CliRunner().invoke(main, ["--config", str(path), "status"])
    assert "Mailbox billing needs sign-in (consent revoked): run `amends auth login billing`" in status.output
    from worker.desk.users import add_user
    from worker.web import create_app

    add_user(store, "Tom Baker", "correct horse battery", False, NOW)
    app = create_app(config, secret_key="x" * 40)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/login", data={"name": "Tom Baker", "password": "correct horse battery"})
    assert "Mailbox billing needs sign-in" in client.get("/").get_data(as_text=True)  # the team sees it too


def test_provider_presets_fill_in_hosts_folders_and_scopes():
    gmail = parse_config('[imap]\nusername = "team@gmail.com"\nprovider = "gmail"\nauth = "oauth2"\n'
                         '[oauth]\nclient_id = "x"\n', "g.toml")
    assert (gmail.imap.host, gmail.imap.sent_folder, gmail.smtp.host, gmail.smtp.provider_saves_sent) == \
        ("imap.gmail.com", "[Gmail]/Sent Mail", "smtp.gmail.com", True)
    assert gmail.oauth.scopes == ("https://mail.google.com/",)
    microsoft = parse_config('[imap]\nusername = "help@contoso.example"\nprovider = "microsoft365"\n'
                             'sent_folder = "Sent Items"\n[smtp]\nport = 25\n', "m.toml")
    assert (microsoft.imap.host, microsoft.smtp.host, microsoft.smtp.port, microsoft.smtp.security) == \
        ("outlook.office365.com", "smtp.office365.com", 25, "starttls")  # what the config sets wins
    with pytest.raises(ConfigError, match=r"imap\.auth: must be one of password, oauth2, not 'xoauth2'"):
        parse_config('[imap]\nusername = "s@example.com"\nauth = "xoauth2"\n', "a.toml")


def test_gmail_refreshes_through_google_auth(oauth_provider, monkeypatch):
    """Gmail's side is google-auth: the same refresh grant, asked by Google's own library."""
    from worker.mail.oauth import GoogleProvider

    monkeypatch.setenv("GMAIL_SECRET", "s3cret")
    config = parse_config(f'[imap]\nusername = "team@gmail.com"\nprovider = "gmail"\nauth = "oauth2"\n[oauth]\n'
                          f'client_id = "x.apps.googleusercontent.com"\nclient_secret_env = "GMAIL_SECRET"\n'
                          f'token_url = "{oauth_provider.authority}/token"\nca_file = "{oauth_provider.ca_file}"\n', "g.toml")
    refresh = oauth_provider.issue("team@gmail.com")["refresh_token"]
    result = GoogleProvider(config).refresh(refresh)
    assert oauth_provider.check("team@gmail.com", result["access_token"])
    oauth_provider.revoke("team@gmail.com")
    with pytest.raises(Exception, match="consent revoked|invalid_grant"):
        GoogleProvider(config).refresh(result["refresh_token"])
