"""The few exceptions Amends raises on purpose; each message tells the user what to do."""

from __future__ import annotations


class AmendsError(Exception):
    """Base class: the CLI prints these as one line instead of a traceback."""

    exit_code = 1


class ConfigError(AmendsError):
    """The config file is missing, malformed, or a key has a bad value."""

    exit_code = 2

    def __init__(self, path: str, key: str | None, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        where = f"{path}: {key}" if key else path
        super().__init__(f"config error in {where}: {problem}")


class NotFound(AmendsError):
    """A record the user named (message, draft, job...) does not exist."""


class MailboxError(AmendsError):
    """The IMAP server cannot be used: unreachable, login refused, no such folder.

    The worker logs it and retries with backoff; a one-shot command prints it and stops.
    """


class ModelError(AmendsError):
    """No usable classifier model, or one built by an incompatible scikit-learn."""
