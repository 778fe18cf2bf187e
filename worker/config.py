"""One TOML file in, one frozen, typed ``Config`` out, loaded once and passed down.

Every key is declared once, as a dataclass field with its type and default; the loader checks
the file against those declarations, so a typo or a wrong type is reported with the file and
the key instead of surfacing later as an odd failure.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

DEFAULT_PATH = "config/amends.toml"
ENV_VAR = "AMENDS_CONFIG"


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
    verify_certificates: bool = True

    def validate(self, path: str) -> None:
        _choice(path, "imap.security", self.security, ("ssl", "starttls", "none"))
        _range(path, "imap.port", self.port, 1, 65535)
        _range(path, "imap.batch_size", self.batch_size, 1, 10_000)
        _range(path, "imap.poll_seconds", self.poll_seconds, 1, 86_400)
        # RFC 2177: servers may drop an IDLE after 30 minutes; renew before that.
        _range(path, "imap.idle_seconds", self.idle_seconds, 1, 29 * 60)
        if not self.username:
            raise ConfigError(path, "imap.username", "is required")
        if not self.folders:
            raise ConfigError(path, "imap.folders", "name at least one folder")


@dataclass(frozen=True)
class StoreConfig:
    path: str = "var/amends.db"


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
    complaint_threshold: float = 0.5
    severity_medium: float = 0.5
    severity_high: float = 0.5
    severity_critical: float = 0.5
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
class LogConfig:
    level: str = "INFO"

    def validate(self, path: str) -> None:
        _choice(path, "log.level", self.level.upper(), ("DEBUG", "INFO", "WARNING", "ERROR"))


@dataclass(frozen=True)
class Config:
    path: str = DEFAULT_PATH
    imap: ImapConfig = field(default_factory=ImapConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    threading: ThreadingConfig = field(default_factory=ThreadingConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    log: LogConfig = field(default_factory=LogConfig)

    def imap_password(self) -> str:
        return _secret(self.path, "imap.password_env", self.imap.password_env)

    @property
    def own_addresses(self) -> frozenset[str]:
        """Addresses that are us: mail from them is never answered."""
        own = {a.lower() for a in self.guard.own_addresses}
        if "@" in self.imap.username:
            own.add(self.imap.username.lower())
        return frozenset(own)

    @property
    def data_dir(self) -> Path:
        return Path(self.store.path).parent


def _choice(path: str, key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(path, key, f"must be one of {', '.join(allowed)}, not {value!r}")


def _range(path: str, key: str, value: int, low: int, high: int) -> None:
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
        return types.MappingProxyType(
            {k: _coerce(path, f"{key}.{k}", v, value_hint) for k, v in value.items()}
        )
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
            raise ConfigError(path, f"{name}.{key}", f"unknown key (known: {', '.join(sorted(known))})")
    values = {key: _coerce(path, f"{name}.{key}", value, hints[key]) for key, value in data.items()}
    section = cls(**values)
    if hasattr(section, "validate"):
        section.validate(path)
    return section


def sections() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config) if f.name != "path"}


def parse_config(text: str, path: str = "<string>") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML: {exc}") from None
    known = sections()
    values: dict[str, object] = {}
    for name, section_data in data.items():
        if name not in known:
            raise ConfigError(path, f"[{name}]", f"unknown section (known: {', '.join(known)})")
        values[name] = _section(path, name, known[name], section_data)
    for name, cls in known.items():
        if name not in values:
            values[name] = _section(path, name, cls, {})
    return Config(path=path, **values)


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
