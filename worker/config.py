"""One TOML file in, one frozen, typed ``Config`` out, loaded once and passed down.

Every key is declared once, as a dataclass field with its type and default; the loader checks
the file against those declarations, so a typo or a wrong type is reported with the file and
the key instead of surfacing later as an odd failure.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
from datetime import time
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

DEFAULT_PATH = "config/amends.toml"
DEFAULT_MAILBOX = "default"  # the name of the one mailbox of a config without [[mailbox]]
DEMO_PATH = "config/demo.toml"
ENV_VAR = "AMENDS_CONFIG"


MIN_SECRET_BYTES = 32


def _secret(path: str, key: str, env_name: str) -> str:
    value = os.environ.get(env_name)
    if not value:
        raise ConfigError(path, key, f"environment variable {env_name} is not set")
    return value


@dataclass(frozen=True)
class ImapConfig:
    host: str = "127.0.0.1"
    port: int = 993
    security: str = "ssl"
    username: str = ""
    password_env: str = "AMENDS_IMAP_PASSWORD"
    folders: tuple[str, ...] = ("INBOX",)
    sent_folder: str = "Sent"
    poll_seconds: int = 60
    idle: bool = True
    idle_seconds: int = 300
    batch_size: int = 200
    timeout_seconds: int = 30
    reconnect_max_seconds: int = 300
    stale_after_minutes: int = 15
    max_message_bytes: int = 25 * 1024 * 1024
    parse_budget_seconds: float = 10.0
    verify_certificates: bool = True
    provider: str = "generic"  # gmail | microsoft365 | generic: fills in hosts, ports, folders, scopes
    auth: str = "password"  # password | oauth2 (SASL XOAUTH2, for IMAP and SMTP alike)

    def validate(self, path: str) -> None:
        _choice(path, "imap.security", self.security, ("ssl", "starttls", "none"))
        _choice(path, "imap.provider", self.provider, tuple(PRESETS))
        _choice(path, "imap.auth", self.auth, ("password", "oauth2"))
        _range(path, "imap.parse_budget_seconds", self.parse_budget_seconds, 0.01, 600)
        _range(path, "imap.port", self.port, 1, 65535)
        _range(path, "imap.batch_size", self.batch_size, 1, 10_000)
        _range(path, "imap.poll_seconds", self.poll_seconds, 1, 86_400)
        # RFC 2177: servers may drop an IDLE after 30 minutes; renew before that.
        _range(path, "imap.idle_seconds", self.idle_seconds, 1, 29 * 60)
        if not self.username:
            raise ConfigError(path, "imap.username", "is required")
        if not self.folders:
            raise ConfigError(path, "imap.folders", "name at least one folder")


# What a provider's mailboxes are like; anything set in the config wins.
PRESETS: dict[str, dict[str, dict]] = {
    "generic": {"imap": {}, "smtp": {}, "oauth": {}},
    "gmail": {  # Gmail files what is sent through its SMTP in "[Gmail]/Sent Mail" itself
        "imap": {"host": "imap.gmail.com", "port": 993, "security": "ssl", "sent_folder": "[Gmail]/Sent Mail"},
        "smtp": {"host": "smtp.gmail.com", "port": 465, "security": "ssl", "provider_saves_sent": True},
        "oauth": {"scopes": ["https://mail.google.com/"]},
    },
    "microsoft365": {  # so does Exchange Online, in "Sent Items"
        "imap": {"host": "outlook.office365.com", "port": 993, "security": "ssl", "sent_folder": "Sent Items"},
        "smtp": {"host": "smtp.office365.com", "port": 587, "security": "starttls", "provider_saves_sent": True},
        "oauth": {"scopes": ["https://outlook.office.com/IMAP.AccessAsUser.All",  # msal adds offline_access
                             "https://outlook.office.com/SMTP.Send"]},
    },
}


@dataclass(frozen=True)
class OAuthConfig:
    """How a mailbox signs in with OAuth2 (``imap.auth = "oauth2"``)."""

    client_id: str = ""
    client_secret_env: str = ""  # Gmail's desktop clients have one; Microsoft's public clients none
    tenant: str = "organizations"  # Microsoft 365: your tenant id or domain, or "organizations"
    authority: str = ""  # generic: the OpenID Connect issuer URL; Gmail/Microsoft: their own
    token_url: str = ""  # Gmail only, to override Google's token endpoint
    scopes: tuple[str, ...] = ()
    key_env: str = "AMENDS_TOKEN_KEY"  # the Fernet key that encrypts stored sign-ins
    ca_file: str = ""  # trust this CA for the provider's endpoints (a company proxy); "" = the system's


@dataclass(frozen=True)
class StoreConfig:
    path: str = "var/amends.db"
    busy_timeout_seconds: float = 30.0


@dataclass(frozen=True)
class ThreadingConfig:
    subject_window_days: int = 14


@dataclass(frozen=True)
class GuardConfig:
    own_addresses: tuple[str, ...] = ()
    sender_limit_per_hour: int = 10


@dataclass(frozen=True)
class ClassifierConfig:
    model_dir: str = "var/models"
    encodings_cache: str = ""  # empty: <model_dir>/encodings.sqlite
    complaint_threshold: float = 0.5
    severity_medium: float = 0.5
    severity_high: float = 0.5
    severity_critical: float = 0.6
    rule_floor: float = 0.2
    repeat_window_days: int = 30
    vip_domains: tuple[str, ...] = ()

    def validate(self, path: str) -> None:
        for key in ("complaint_threshold", "severity_medium", "severity_high", "severity_critical", "rule_floor"):
            value = getattr(self, key)
            if not 0.0 < value < 1.0:
                raise ConfigError(path, f"classifier.{key}", f"must be between 0 and 1 (exclusive), not {value}")
        _range(path, "classifier.repeat_window_days", self.repeat_window_days, 0, 3650)


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password_env: str = "AMENDS_SMTP_PASSWORD"
    from_address: str = "support@example.com"
    from_name: str = "Example Support"
    message_id_domain: str = "support.example.com"
    timeout_seconds: int = 30
    max_attempts: int = 8
    retry_max_seconds: int = 3600
    provider_saves_sent: bool = False
    verify_certificates: bool = True
    check_seconds: int = 5

    def validate(self, path: str) -> None:
        _choice(path, "smtp.security", self.security, ("ssl", "starttls", "none"))
        _range(path, "smtp.port", self.port, 1, 65535)
        _range(path, "smtp.check_seconds", self.check_seconds, 1, 3600)
        _range(path, "smtp.max_attempts", self.max_attempts, 1, 100)
        if self.from_address.count("@") != 1:
            raise ConfigError(path, "smtp.from_address", f"not an email address: {self.from_address!r}")


# No times in here: the one time a reply promises is its deadline, worked out in business hours.
DEFAULT_REMEDIES: dict[str, dict[str, str]] = {
    "delivery": {"low": "free delivery on your next order",
                 "medium": "a refund of the delivery charge and free delivery on your next order",
                 "high": "a full refund of the delivery charge and a 20% credit on your account",
                 "critical": "a personal call from our operations manager, and a full refund"},
    "billing": {"low": "a 10% credit on your next bill",
                "medium": "a 15% credit on your next bill",
                "high": "a month's service free of charge",
                "critical": "a personal call from our billing manager, and two months free"},
    "defect": {"low": "a 10% voucher for your next order",
               "medium": "a free replacement sent by express delivery",
               "high": "an express replacement and a full refund, so you keep both",
               "critical": "a personal call from our quality manager, and a full refund"},
    "outage": {"low": "a credit for the time the service was down",
               "medium": "a week's credit on your account",
               "high": "a month's service free of charge",
               "critical": "a personal call from our technical lead, and a month free"},
    "staff": {"low": "a 10% voucher as an apology",
              "medium": "a 15% voucher as an apology",
              "high": "a personal call from the team leader, and a 25% credit",
              "critical": "a personal call from our head of customer service"},
    "account": {"low": "priority support for the next month",
                "medium": "priority support for the next three months",
                "high": "a month's service free of charge, and a personal call",
                "critical": "a personal call from our accounts manager"},
    "privacy": {"low": "a direct contact in our data protection team",
                "medium": "a direct contact in our data protection team",
                "high": "a personal call from our data protection officer",
                "critical": "a personal call from our data protection officer"},
    "other": {"low": "a 10% voucher for your next visit",
              "medium": "a 15% voucher for your next visit",
              "high": "a personal call from the manager responsible",
              "critical": "a personal call from our head of customer service"},
}
SEVERITY_LEVELS = ("low", "medium", "high", "critical")
STAKES = ("safety", "legal", "privacy")


@dataclass(frozen=True)
class DraftsConfig:
    templates_dir: str = "templates/replies"
    company: str = "Example"
    team_name: str = "The Example support team"
    timezone: str = "UTC"
    answer_within_hours: dict[str, float] = field(  # business hours, counted when the reply is approved
        default_factory=lambda: {"low": 16, "medium": 8, "high": 4, "critical": 2}
    )
    warn_before_minutes: int = 60
    remedies: dict[str, dict[str, str]] = field(default_factory=lambda: DEFAULT_REMEDIES)
    remedy_if_replacement_failed: str = "a full refund, and a courier to collect the item at a time that suits you"
    legal_team: str = "our customer relations manager"
    privacy_contact: str = "privacy@example.com"
    hold_for: dict[str, str] = field(default_factory=lambda: {"legal": "legal"})

    def validate(self, path: str) -> None:
        for level in SEVERITY_LEVELS:
            if level not in self.answer_within_hours:
                raise ConfigError(path, f"drafts.answer_within_hours.{level}", "is missing")
            _range(path, f"drafts.answer_within_hours.{level}", self.answer_within_hours[level], 0.25, 400)
        for kind in self.hold_for:
            if kind not in STAKES:
                raise ConfigError(path, f"drafts.hold_for.{kind}", f"must be one of {', '.join(STAKES)}")
        for category, by_level in self.remedies.items():
            if category not in DEFAULT_REMEDIES:
                raise ConfigError(path, f"drafts.remedies.{category}",
                                  f"unknown category (known: {', '.join(DEFAULT_REMEDIES)})")
            for level in by_level:
                if level not in SEVERITY_LEVELS:
                    raise ConfigError(path, f"drafts.remedies.{category}.{level}", f"must be one of {', '.join(SEVERITY_LEVELS)}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(path, "drafts.timezone", f"unknown time zone {self.timezone!r}") from None

    def remedy(self, category: str | None, severity: str | None) -> str | None:
        """Config overrides the defaults one entry at a time."""
        if not category or not severity:
            return None
        return self.remedies.get(category, {}).get(severity) or DEFAULT_REMEDIES.get(category, {}).get(severity)


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _is_clock(text: str) -> bool:
    if not re.fullmatch(r"\d{2}:\d{2}", text):
        return False
    try:
        time.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class FollowupConfig:
    follow_up_days: dict[str, int] = field(
        default_factory=lambda: {"low": 5, "medium": 3, "high": 2, "critical": 1}
    )
    survey_after_days: int = 3
    business_hours: str = "09:00-17:00"
    business_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    survey_link_days: int = 28
    leadership: tuple[str, ...] = ()
    alert_severities: tuple[str, ...] = ("high", "critical")
    digest_at: str = ""

    def validate(self, path: str) -> None:
        if self.digest_at and not _is_clock(self.digest_at):
            raise ConfigError(path, "followup.digest_at", f'use HH:MM (e.g. "08:30") or "" for no digest, not {self.digest_at!r}')
        for level in SEVERITY_LEVELS:
            if level not in self.follow_up_days:
                raise ConfigError(path, f"followup.follow_up_days.{level}", "is missing")
        hours = self.business_hours.split("-")
        if len(hours) != 2 or not all(map(_is_clock, hours)) or self.opening >= self.closing:
            raise ConfigError(path, "followup.business_hours", f"use HH:MM-HH:MM, opening first, not {self.business_hours!r}")
        for day in self.business_days:
            if day not in DAYS:
                raise ConfigError(path, "followup.business_days", f"{day!r} is not one of {', '.join(DAYS)}")
        for address in self.leadership:
            if address.count("@") != 1:
                raise ConfigError(path, "followup.leadership", f"not an email address: {address!r}")

    @property
    def opening(self) -> time:
        return time.fromisoformat(self.business_hours.split("-")[0])

    @property
    def closing(self) -> time:
        return time.fromisoformat(self.business_hours.split("-")[1])

    @property
    def digest_time(self) -> time | None:
        return time.fromisoformat(self.digest_at) if self.digest_at else None


@dataclass(frozen=True)
class QueueConfig:
    first_response_hours: dict[str, float] = field(  # business hours from the first unanswered message
        default_factory=lambda: {"low": 8, "medium": 4, "high": 2, "critical": 1}
    )
    viewing_seconds: int = 90

    def validate(self, path: str) -> None:
        for level in SEVERITY_LEVELS:
            if level not in self.first_response_hours:
                raise ConfigError(path, f"queue.first_response_hours.{level}", "is missing")
            _range(path, f"queue.first_response_hours.{level}", self.first_response_hours[level], 0.25, 400)
        _range(path, "queue.viewing_seconds", self.viewing_seconds, 10, 3600)


@dataclass(frozen=True)
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 8025
    base_url: str = "http://127.0.0.1:8025"
    secret_key_env: str = "AMENDS_SECRET_KEY"
    session_hours: int = 12

    def validate(self, path: str) -> None:
        _range(path, "web.port", self.port, 1, 65535)


@dataclass(frozen=True)
class LogConfig:
    level: str = "INFO"

    def validate(self, path: str) -> None:
        _choice(path, "log.level", self.level.upper(), ("DEBUG", "INFO", "WARNING", "ERROR"))


_MAILBOX_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


@dataclass(frozen=True)
class MailboxConfig:
    """One shared inbox of the desk: how to read it, how to answer from it, who signs."""

    name: str
    imap: ImapConfig
    smtp: SmtpConfig
    team_name: str
    oauth: OAuthConfig = field(default_factory=OAuthConfig)


@dataclass(frozen=True)
class Config:
    path: str = DEFAULT_PATH
    imap: ImapConfig = field(default_factory=ImapConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    threading: ThreadingConfig = field(default_factory=ThreadingConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    drafts: DraftsConfig = field(default_factory=DraftsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    followup: FollowupConfig = field(default_factory=FollowupConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    log: LogConfig = field(default_factory=LogConfig)
    oauth: OAuthConfig = field(default_factory=OAuthConfig)
    mailbox: tuple[MailboxConfig, ...] = ()  # [[mailbox]] tables; none: [imap] and [smtp] are the one
    mailbox_name: str = DEFAULT_MAILBOX  # which one this config's imap and smtp are

    @property
    def mailboxes(self) -> tuple[MailboxConfig, ...]:
        return self.mailbox or (MailboxConfig(DEFAULT_MAILBOX, self.imap, self.smtp, self.drafts.team_name, self.oauth),)

    def for_mailbox(self, name: str | None) -> "Config":
        """This config as seen from one mailbox: its IMAP, its SMTP, its team name. A name no
        longer in the config (a mailbox removed) falls back to the first mailbox."""
        chosen = next((m for m in self.mailboxes if m.name == name), self.mailboxes[0])
        if chosen.name == self.mailbox_name and chosen.imap is self.imap and chosen.smtp is self.smtp:
            return self
        return dataclasses.replace(self, imap=chosen.imap, smtp=chosen.smtp, oauth=chosen.oauth, mailbox_name=chosen.name,
                                   drafts=dataclasses.replace(self.drafts, team_name=chosen.team_name))

    def imap_password(self) -> str:
        return _secret(self.path, "imap.password_env", self.imap.password_env)

    def smtp_password(self) -> str | None:
        if self.imap.auth == "oauth2" or not self.smtp.username:
            return None
        return _secret(self.path, "smtp.password_env", self.smtp.password_env)

    def secret_key(self) -> str:
        """Signs sessions and survey links: a short one can be guessed, and then forged."""
        value = _secret(self.path, "web.secret_key_env", self.web.secret_key_env)
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(self.path, "web.secret_key_env",
                              f"{self.web.secret_key_env} has {len(value.encode())} bytes; it needs at least "
                              f"{MIN_SECRET_BYTES}. Make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return value

    @property
    def own_addresses(self) -> frozenset[str]:
        """Addresses that are us, in every mailbox of the desk: mail from them is never answered."""
        own = {a.lower() for a in self.guard.own_addresses}
        for box in self.mailboxes:
            if "@" in box.imap.username:
                own.add(box.imap.username.lower())
            own.add(box.smtp.from_address.lower())
        return frozenset(own)

    @property
    def data_dir(self) -> Path:
        return Path(self.store.path).parent


def _choice(path: str, key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(path, key, f"must be one of {', '.join(allowed)}, not {value!r}")


def _range(path: str, key: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigError(path, key, f"must be between {low} and {high}, not {value}")


def _coerce(path: str, key: str, value: object, hint: object) -> object:
    """Check one value against its declared type; lists become tuples so Config stays frozen."""
    origin = typing.get_origin(hint)
    if origin in (tuple, list):
        (item_hint, *_) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(path, key, f"expected a list, got {type(value).__name__}")
        return tuple(_coerce(path, f"{key}[{i}]", v, item_hint) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(path, key, f"expected a table, got {type(value).__name__}")
        _, value_hint = typing.get_args(hint)
        return {k: _coerce(path, f"{key}.{k}", v, value_hint) for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    expected = hint if isinstance(hint, type) else object
    if hint is int and isinstance(value, bool) or not isinstance(value, expected):
        name = getattr(expected, "__name__", str(expected))
        raise ConfigError(path, key, f"expected {name}, got {type(value).__name__} {value!r}")
    return value


def _section(path: str, name: str, cls: type, data: object) -> object:
    if not isinstance(data, dict):
        raise ConfigError(path, f"[{name}]", "must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(path, f"{name}.{key}", f"unknown key ({hint}known: {', '.join(sorted(known))})")
    values = {key: _coerce(path, f"{name}.{key}", value, hints[key]) for key, value in data.items()}
    section = cls(**values)
    if hasattr(section, "validate"):
        section.validate(path)
    return section


def sections() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config) if f.name not in ("path", "mailbox", "mailbox_name")}


def _mailboxes(path: str, data: object, imap: dict, smtp: dict, oauth: dict, team_name: str) -> tuple[MailboxConfig, ...]:
    """[[mailbox]] tables: each a name, optional team_name, and [mailbox.imap] / [mailbox.smtp]
    tables laid over the top-level [imap] and [smtp] (so shared settings are written once)."""
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ConfigError(path, "[[mailbox]]", "must be an array of tables ([[mailbox]] blocks)")
    boxes: list[MailboxConfig] = []
    for i, item in enumerate(data):
        name = item.get("name")
        where = f"mailbox[{i}]"
        if not isinstance(name, str) or not _MAILBOX_NAME.fullmatch(name):
            raise ConfigError(path, f"{where}.name", "is required: lower-case letters, digits, - or _ (e.g. \"support\")")
        if any(box.name == name for box in boxes):
            raise ConfigError(path, f"{where}.name", f"{name!r} names two mailboxes")
        for key in item:
            if key not in ("name", "team_name", "imap", "smtp", "oauth"):
                raise ConfigError(path, f"{where}.{key}", "unknown key (known: imap, name, oauth, smtp, team_name)")
        own_team = item.get("team_name", team_name)
        if not isinstance(own_team, str):
            raise ConfigError(path, f"{where}.team_name", f"expected str, got {type(own_team).__name__}")
        box_imap, box_smtp, box_oauth = _account(
            path, where, {**imap, **_table(path, f"{where}.imap", item.get("imap", {}))},
            {**smtp, **_table(path, f"{where}.smtp", item.get("smtp", {}))},
            {**oauth, **_table(path, f"{where}.oauth", item.get("oauth", {}))})
        boxes.append(MailboxConfig(name, box_imap, box_smtp, own_team, box_oauth))
    return tuple(boxes)


def _account(path: str, where: str, imap: dict, smtp: dict, oauth: dict) -> tuple[ImapConfig, SmtpConfig, OAuthConfig]:
    """One mailbox's IMAP, SMTP and OAuth settings, over its provider's preset."""
    prefix = f"{where}." if where else ""
    preset = PRESETS.get(imap.get("provider", "generic")) or {"imap": {}, "smtp": {}, "oauth": {}}
    return (_section(path, f"{prefix}imap", ImapConfig, {**preset["imap"], **imap}),
            _section(path, f"{prefix}smtp", SmtpConfig, {**preset["smtp"], **smtp}),
            _section(path, f"{prefix}oauth", OAuthConfig, {**preset["oauth"], **oauth}))


def _table(path: str, key: str, value: object) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(path, key, "must be a table")
    return value


def parse_config(text: str, path: str = "<string>") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML: {exc}") from None
    known = sections()
    values: dict[str, object] = {}
    boxes = data.pop("mailbox", None)
    for name, section_data in data.items():
        if name not in known:
            raise ConfigError(path, f"[{name}]", f"unknown section (known: {', '.join([*known, 'mailbox'])})")
        if name in ("imap", "smtp", "oauth"):
            _table(path, f"[{name}]", section_data)
            continue  # one account's settings (or those each [[mailbox]] shares): read together below
        values[name] = _section(path, name, known[name], section_data)
    imap, smtp, oauth = (data.get(name, {}) for name in ("imap", "smtp", "oauth"))
    if boxes is None:
        values["imap"], values["smtp"], values["oauth"] = _account(path, "", imap, smtp, oauth)
    else:
        values["mailbox"] = _mailboxes(path, boxes, {"username": "-"} | imap, smtp, oauth,
                                       values["drafts"].team_name if "drafts" in values else DraftsConfig().team_name)
        first = values["mailbox"][0] if values["mailbox"] else None
        if first is None:
            raise ConfigError(path, "[[mailbox]]", "name at least one mailbox, or leave [[mailbox]] out")
        values["imap"], values["smtp"], values["oauth"], values["mailbox_name"] = first.imap, first.smtp, first.oauth, first.name
    for name, cls in known.items():
        if name not in values:
            values[name] = _section(path, name, cls, {})
    return Config(path=path, **values)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _values(section: object) -> dict:
    return {f.name: getattr(section, f.name) for f in dataclasses.fields(section)}


def to_toml(config: Config) -> str:
    """The whole config as TOML, every key written out: what a process really ran with."""
    lines = [f"# Written by Amends from {config.path}: the values in use, defaults included."]
    for name in sections():
        lines.append(f"\n[{name}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in _values(getattr(config, name)).items())
    for box in config.mailbox:
        lines += ["\n[[mailbox]]", f"name = {_toml_value(box.name)}", f"team_name = {_toml_value(box.team_name)}"]
        lines.extend(f"{part} = {_toml_value(_values(getattr(box, part)))}" for part in ("imap", "smtp", "oauth"))
    return "\n".join(lines) + "\n"


def resolve_path(explicit: str | None) -> str:
    return explicit or os.environ.get(ENV_VAR) or DEFAULT_PATH


def load_config(explicit: str | None = None) -> Config:
    """``--config PATH``, else ``$AMENDS_CONFIG``, else ``config/amends.toml``."""
    path = resolve_path(explicit)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found (pass --config or set AMENDS_CONFIG)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"cannot read it: {exc}") from None
    return parse_config(text, path)
