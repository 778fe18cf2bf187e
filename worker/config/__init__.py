"""One TOML file in, one frozen, typed ``Config`` out, loaded once and passed down.

Every key is declared once, as a dataclass field with its type and default (``sections.py``);
the loader (``loader.py``) checks the file against those declarations, so a typo or a wrong
type is reported with the file and the key instead of surfacing later as an odd failure.
"""

from ..errors import ConfigError
from .loader import DEFAULT_PATH, DEMO_PATH, ENV_VAR, Config, load_config, parse_config, resolve_path, sections, to_toml
from .sections import DAYS, DEFAULT_MAILBOX, SEVERITY_LEVELS, STAKES, ClassifierConfig, DraftsConfig, FollowupConfig, GuardConfig, ImapConfig, LogConfig, MailboxConfig, OAuthConfig, QueueConfig, SmtpConfig, StoreConfig, ThreadingConfig, WebConfig

__all__ = ['ClassifierConfig', 'Config', 'ConfigError', 'DAYS', 'DEFAULT_MAILBOX', 'DEFAULT_PATH', 'DEMO_PATH', 'DraftsConfig', 'ENV_VAR', 'FollowupConfig', 'GuardConfig', 'ImapConfig', 'LogConfig', 'MailboxConfig', 'OAuthConfig', 'QueueConfig', 'SEVERITY_LEVELS', 'STAKES', 'SmtpConfig', 'StoreConfig', 'ThreadingConfig', 'WebConfig', 'load_config', 'parse_config', 'resolve_path', 'sections', 'to_toml']
