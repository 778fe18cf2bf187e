"""Signing in to a shared inbox with OAuth2 (SASL XOAUTH2), as Gmail and Microsoft 365 require.

A person signs in once per mailbox (`amends auth login MAILBOX`): the device-code flow
(Microsoft 365, and any OpenID Connect provider) or an authorization code through a loopback
redirect (Gmail, whose mail scope the device flow does not allow). What is kept is the refresh
token, encrypted with a key from the environment (Fernet); access tokens live in memory and are
refreshed before they expire. A refresh that fails (consent revoked, password changed) marks the
mailbox "needs sign-in" and raises ``SignInNeeded``; the other mailboxes go on.

The protocol is the libraries' (msal, google-auth): nothing here speaks HTTP by hand.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from ..config import Config
from ..errors import ConfigError, MailboxError

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger(__name__)
REFRESH_MARGIN = 300  # seconds: an access token this close to expiring is refreshed first (at most a quarter of its life)


class SignInNeeded(MailboxError):
    """The mailbox's sign-in no longer works; a person must run `amends auth login` again."""

    def __init__(self, mailbox: str, why: str) -> None:
        self.mailbox = mailbox
        super().__init__(f"mailbox {mailbox} needs sign-in ({why}): run `amends auth login {mailbox}`")


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), for IMAP and SMTP alike."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def _fernet(config: Config):
    import os

    from cryptography.fernet import Fernet

    key = os.environ.get(config.oauth.key_env)
    if not key:
        raise ConfigError(config.path, "oauth.key_env",
                          f"environment variable {config.oauth.key_env} is not set; make a key with `amends auth key`")
    try:
        return Fernet(key.encode())
    except ValueError:
        raise ConfigError(config.path, "oauth.key_env",
                          f"{config.oauth.key_env} is not a Fernet key; make one with `amends auth key`") from None


def encrypt(config: Config, secret: str) -> bytes:
    return _fernet(config).encrypt(secret.encode())


def decrypt(config: Config, blob: bytes) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(config).decrypt(blob).decode()
    except InvalidToken:
        raise ConfigError(config.path, "oauth.key_env",
                          f"the stored sign-in of mailbox {config.mailbox_name} was encrypted with another key; "
                          f"sign in again with `amends auth login {config.mailbox_name}`") from None


# -- providers ------------------------------------------------------------------------------


def _session(config: Config):
    """A requests session for the provider; with ``oauth.ca_file``, trusting that CA only (a
    company proxy, or a test's own provider)."""
    import requests

    session = requests.Session()
    if config.oauth.ca_file:
        session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise win over the CA file
        session.verify = config.oauth.ca_file
    return session


class MsalProvider:
    """Microsoft 365 (its authority and tenant), or any OpenID Connect provider (``authority``)."""

    def __init__(self, config: Config) -> None:
        import msal

        oauth = config.oauth
        if not oauth.client_id:
            raise ConfigError(config.path, f"{_where(config)}oauth.client_id", "is required for auth = \"oauth2\"")
        where = ({"oidc_authority": oauth.authority} if config.imap.provider == "generic"
                 else {"authority": oauth.authority or f"https://login.microsoftonline.com/{oauth.tenant}"})
        if config.imap.provider == "generic" and not oauth.authority:
            raise ConfigError(config.path, f"{_where(config)}oauth.authority", "is required with provider = \"generic\"")
        self.scopes = list(oauth.scopes)
        self.app = msal.PublicClientApplication(oauth.client_id, http_client=_session(config), **where)

    def sign_in(self, say: Callable[[str], None]) -> dict:
        flow = self.app.initiate_device_flow(scopes=self.scopes)
        if "user_code" not in flow:
            raise MailboxError(f"the provider refused to start a sign-in: {flow.get('error_description') or flow}")
        say(f"To sign in, open {flow['verification_uri']} and enter the code {flow['user_code']}.")
        return self._result(self.app.acquire_token_by_device_flow(flow))

    def refresh(self, refresh_token: str) -> dict:
        return self._result(self.app.acquire_token_by_refresh_token(refresh_token, scopes=self.scopes))

    @staticmethod
    def _result(result: dict) -> dict:
        if "access_token" not in result:
            raise _Refused(result.get("error_description") or result.get("error") or "no token")
        return result


class GoogleProvider:
    """Gmail: an authorization code through a loopback redirect, then google-auth refreshes."""

    def __init__(self, config: Config) -> None:
        self.config = config
        oauth = config.oauth
        if not oauth.client_id:
            raise ConfigError(config.path, f"{_where(config)}oauth.client_id", "is required for auth = \"oauth2\"")
        self.client = {"client_id": oauth.client_id, "client_secret": _client_secret(config),
                       "auth_uri": oauth.authority or "https://accounts.google.com/o/oauth2/auth",
                       "token_uri": oauth.token_url or "https://oauth2.googleapis.com/token"}

    def sign_in(self, say: Callable[[str], None]) -> dict:
        from google_auth_oauthlib.flow import InstalledAppFlow

        flow = InstalledAppFlow.from_client_config({"installed": self.client}, scopes=list(self.config.oauth.scopes))
        credentials = flow.run_local_server(port=0, open_browser=False,
                                            authorization_prompt_message="To sign in, open this address: {url}")
        return {"access_token": credentials.token, "refresh_token": credentials.refresh_token,
                "expires_in": max(60, (credentials.expiry - datetime.utcnow()).total_seconds()) if credentials.expiry else 3600}

    def refresh(self, refresh_token: str) -> dict:
        from google.auth.exceptions import RefreshError
        from google.auth.transport.requests import Request
        from google.oauth2.credentials import Credentials

        credentials = Credentials(None, refresh_token=refresh_token, token_uri=self.client["token_uri"],
                                  client_id=self.client["client_id"], client_secret=self.client["client_secret"],
                                  scopes=list(self.config.oauth.scopes))
        try:
            credentials.refresh(Request(_session(self.config)))
        except RefreshError as exc:
            raise _Refused(str(exc)) from None
        expires = (credentials.expiry - datetime.utcnow()).total_seconds() if credentials.expiry else 3600
        return {"access_token": credentials.token, "refresh_token": credentials.refresh_token, "expires_in": expires}


class _Refused(Exception):
    """The provider said no (as opposed to: could not be reached)."""


def _client_secret(config: Config) -> str:
    import os

    if not config.oauth.client_secret_env:
        return ""
    value = os.environ.get(config.oauth.client_secret_env)
    if not value:
        raise ConfigError(config.path, f"{_where(config)}oauth.client_secret_env",
                          f"environment variable {config.oauth.client_secret_env} is not set")
    return value


def _where(config: Config) -> str:
    return f"mailbox {config.mailbox_name}: " if config.mailbox else ""


def provider(config: Config):
    return GoogleProvider(config) if config.imap.provider == "gmail" else MsalProvider(config)


# -- signing in, and staying signed in ------------------------------------------------------


def sign_in(store: "Store", config: Config, say: Callable[[str], None], now: datetime) -> None:
    """A person signs the mailbox in; its refresh token is kept, encrypted."""
    try:
        result = provider(config).sign_in(say)
    except _Refused as exc:
        raise MailboxError(f"sign-in of mailbox {config.mailbox_name} failed: {exc}") from None
    if not result.get("refresh_token"):
        raise MailboxError("the provider gave no refresh token: ask for offline access (scope offline_access)")
    store.save_token(config.mailbox_name, encrypt(config, result["refresh_token"]), now, signed_in=True)
    store.audit("amends", "signed in", "mailbox", None, {"mailbox": config.mailbox_name}, now)


class Tokens:
    """A mailbox's access token: refreshed before it expires, from the refresh token kept in
    the store (which the provider may rotate: the new one is kept)."""

    def __init__(self, config: Config, store: "Store", clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._lifetime = 3600.0
        self._lock = threading.Lock()
        self._provider = None  # built on first refresh (msal asks the provider for its endpoints)

    @property
    def expires_in(self) -> float:
        return self._expires - self.clock()

    @property
    def margin(self) -> float:
        """How long before expiry a token is replaced: five minutes, or a quarter of a short life."""
        return min(REFRESH_MARGIN, self._lifetime / 4)

    def stale(self) -> bool:
        return self._token is None or self.expires_in < self.margin

    def access_token(self) -> str:
        with self._lock:
            if self.stale():
                self._refresh()
            return self._token

    def _refresh(self) -> None:
        box = self.config.mailbox_name
        row = self.store.token(box)
        if row is None:
            raise SignInNeeded(box, "never signed in")
        if row["state"] == "needs_sign_in":
            raise SignInNeeded(box, row["error"] or "the last refresh failed")
        refresh_token = decrypt(self.config, row["refresh_token"])
        self._provider = self._provider or provider(self.config)
        try:
            result = self._provider.refresh(refresh_token)
        except _Refused as exc:
            self.store.token_failed(box, str(exc), datetime.fromtimestamp(self.clock()).astimezone())
            log.error("mailbox %s needs sign-in: the provider refused to refresh its token (%s); "
                      "run `amends auth login %s`", box, exc, box)
            raise SignInNeeded(box, str(exc)) from None
        if result.get("refresh_token") and result["refresh_token"] != refresh_token:
            self.store.save_token(box, encrypt(self.config, result["refresh_token"]),
                                  datetime.fromtimestamp(self.clock()).astimezone())
        self._token = result["access_token"]
        self._lifetime = float(result.get("expires_in") or 3600)
        self._expires = self.clock() + self._lifetime
        log.info("mailbox %s: access token refreshed (valid %d s)", box, self.expires_in)


def tokens_for(config: Config, store: "Store") -> "Tokens | None":
    """The access tokens of a mailbox that signs in with OAuth2; None for a password."""
    return Tokens(config, store) if config.imap.auth == "oauth2" else None


def new_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def smtp_auth_object(user: str, token: str) -> Callable[..., str]:
    """smtplib's ``auth()`` wants a callable answering the server's challenge."""
    return lambda challenge=None: xoauth2(user, token)
