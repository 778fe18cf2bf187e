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


class StoreError(AmendsError):
    """The database cannot be used just now: locked by another process too long, the disk full,
    an I/O error. The worker retries with backoff; a one-shot command says so and stops."""


class WorkerStopped(AmendsError):
    """A mailbox's worker met an error it cannot retry (a config problem, a bug): `amends run`
    exits non-zero, so that a supervisor restarts it once the cause is fixed."""


def store_problem(exc: Exception, path: str) -> str:
    """One line that says what is wrong with the database, and what to do about it."""
    words = str(exc)
    if "full" in words:
        return f"the disk holding the database {path} is full ({words}): free some space"
    if "locked" in words or "busy" in words:
        return (f"the database {path} stayed locked by another process ({words}): "
                "something holds a long write transaction")
    if "readonly" in words or "permission" in words.lower():
        return f"the database {path} cannot be written ({words}): check its owner and mode"
    return f"the database {path} failed: {type(exc).__name__}: {words}"
