"""The sections of the config file, a frozen dataclass each: every key is declared once, with
its type, its default and, in ``validate``, its check, so that an error names the file and
the key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError

DEFAULT_MAILBOX = "default"  # the name of the one mailbox of a config without [[mailbox]]


def _choice(path: str, key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(path, key, f"must be one of {', '.join(allowed)}, not {value!r}")


def _range(path: str, key: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigError(path, key, f"must be between {low} and {high}, not {value}")


def parse_draft_since(value: str) -> "timedelta | datetime | str | None":
    """``[imap] draft_since`` as a value: None (when first connected), "all", a span before the
    first connection, or an instant (a date alone is midnight UTC); ValueError if it is none of these."""
    value = value.strip()
    if not value:
        return None
    if value.lower() == "all":
        return "all"
    days = re.fullmatch(r"(\d{1,5}) ?days?", value, re.I)
    if days:
        return timedelta(days=int(days.group(1)))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?", value):
        moment = datetime.fromisoformat(value.replace(" ", "T"))
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    raise ValueError(value)


def _per_level(path: str, key: str, values: dict, low: float | None = None, high: float | None = None) -> None:
    """A table with a value for every severity level (and each in [low, high], when given)."""
    for level in SEVERITY_LEVELS:
        if level not in values:
            raise ConfigError(path, f"{key}.{level}", "is missing")
        if low is not None:
            _range(path, f"{key}.{level}", values[level], low, high)


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
    draft_since: str = ""  # "" (when first connected), "all", a date, or "N days" before the first connection

    def validate(self, path: str) -> None:
        try:
            parse_draft_since(self.draft_since)
        except ValueError:
            raise ConfigError(path, "imap.draft_since", f"{self.draft_since!r} is not a date (2026-11-01), a number of "
                              "days (\"30 days\"), \"all\" or empty (from when the mailbox was first connected)") from None
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
    raw_days: int = 0  # raw mail kept this many days (its parsed text stays); 0 keeps it
    case_days: int = 0  # a quiet case with nothing left to do is erased after this many days; 0 keeps it

    def validate(self, path: str) -> None:
        _range(path, "store.raw_days", self.raw_days, 0, 36_500)
        _range(path, "store.case_days", self.case_days, 0, 36_500)
        if self.case_days and self.raw_days > self.case_days:
            raise ConfigError(path, "store.raw_days", f"is longer than store.case_days ({self.case_days}): "
                              "a case's raw mail would outlive the case")


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
    email_from_chars: int = 250
    email_severity_medium: float = 0.6
    email_severity_high: float = 0.8
    email_severity_critical: float = 0.9
    category_floor: float = 0.4
    repeat_window_days: int = 30
    vip_domains: tuple[str, ...] = ()

    def validate(self, path: str) -> None:
        for key in ("complaint_threshold", "severity_medium", "severity_high", "severity_critical", "rule_floor",
                    "email_severity_medium", "email_severity_high", "email_severity_critical", "category_floor"):
            value = getattr(self, key)
            if not 0.0 < value < 1.0:
                raise ConfigError(path, f"classifier.{key}", f"must be between 0 and 1 (exclusive), not {value}")
        _range(path, "classifier.repeat_window_days", self.repeat_window_days, 0, 3650)
        _range(path, "classifier.email_from_chars", self.email_from_chars, 1, 100_000)


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
               "medium": "a 15% voucher for your next order",
               "high": "a personal call from our quality manager, and a 20% voucher",
               "critical": "a personal call from our quality manager, and a full refund"},
    "outage": {"low": "a credit for the time the service was down",
               "medium": "a week's credit on your account",
               "high": "a month's service free of charge",
               "critical": "a personal call from our technical lead, and a month free"},
    "staff": {"low": "a 10% voucher for your next visit",
              "medium": "a 15% voucher for your next visit",
              "high": "a personal call from the team leader, and a 25% credit",
              "critical": "a personal call from our head of customer service"},
    "account": {"low": "priority support for the next month",
                "medium": "priority support for the next three months",
                "high": "a month's service free of charge, and a personal call",
                "critical": "a personal call from our accounts manager"},
    "privacy": {"high": "a personal call from our data protection officer",
                "critical": "a personal call from our data protection officer"},
    "other": {"low": "a 10% voucher for your next visit",
              "medium": "a 15% voucher for your next visit",
              "high": "a personal call from the manager responsible",
              "critical": "a personal call from our head of customer service"},
}
SEVERITY_LEVELS = ("low", "medium", "high", "critical")
STAKES = ("safeguarding", "safety", "legal", "press", "privacy")


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
    press_team: str = "our communications team"
    safeguarding_team: str = "our customer welfare lead"
    on_call: str = "our duty manager"  # calls a critical case that cannot wait, whatever the hour
    on_call_hours: float = 2  # clock hours, not business hours: how soon they call
    privacy_contact: str = "privacy@example.com"
    hold_for: dict[str, str] = field(default_factory=lambda: {"legal": "legal", "press": "communications"})

    def validate(self, path: str) -> None:
        _per_level(path, "drafts.answer_within_hours", self.answer_within_hours, 0.25, 400)
        _range(path, "drafts.on_call_hours", self.on_call_hours, 0.25, 48)
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
        _per_level(path, "followup.follow_up_days", self.follow_up_days)
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
        _per_level(path, "queue.first_response_hours", self.first_response_hours, 0.25, 400)
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
