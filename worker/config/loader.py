"""Reading the config file: TOML in, one frozen, typed ``Config`` out, loaded once and passed
down; and the config as TOML again (the demo writes the one it runs with)."""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from .sections import (DEFAULT_MAILBOX, PRESETS, _MAILBOX_NAME, ClassifierConfig, DraftsConfig, FollowupConfig, GuardConfig, ImapConfig, LogConfig, MailboxConfig, OAuthConfig, QueueConfig, SmtpConfig, StoreConfig, ThreadingConfig, WebConfig)

DEFAULT_PATH = "config/amends.toml"
DEMO_PATH = "config/demo.toml"
ENV_VAR = "AMENDS_CONFIG"

MIN_SECRET_BYTES = 32


def _secret(path: str, key: str, env_name: str) -> str:
    value = os.environ.get(env_name)
    if not value:
        raise ConfigError(path, key, f"environment variable {env_name} is not set")
    return value


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
