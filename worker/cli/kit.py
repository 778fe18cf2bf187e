"""What every `amends` command shares: the lazily loaded config and store, errors, output."""

from __future__ import annotations

import functools
import logging
import re
import sqlite3
import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from ..config import Config, load_config
from ..errors import AmendsError, store_problem
from ..store import Store

console = Console()
err_console = Console(stderr=True)

# C0 and C1 controls but newline and tab, and the bidi overrides: a subject must never move the
# cursor, recolour the terminal or reorder what a person reads.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(value: object) -> str:
    """Text from mail, safe to print to a terminal."""
    return _CONTROL.sub("", str(value))


def shown(value: object) -> str:
    """Text from mail, safe to print inside Rich markup as well."""
    return escape(printable(value))


class Context:
    """Loads the config and opens the store once, on first use, for whichever command runs."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None
        self._store: Store | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
            setup_logging(self._config.log.level)
        return self._config

    def use_config(self, config: Config) -> None:
        """A command that adjusts the config (the demo's ports) before anything uses it."""
        self._config = config

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.config.store.path, self.config.store.busy_timeout_seconds)
        return self._store


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        stream=sys.stderr,
        force=True,
    )


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors we raise on purpose into one line and an exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AmendsError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except sqlite3.Error as exc:
            context = click.get_current_context(silent=True)
            obj = context.find_object(Context) if context else None
            path = obj.config.store.path if obj is not None and obj._config is not None else "(the store)"
            click.echo(f"error: {store_problem(exc, path)}; then run the command again", err=True)
            sys.exit(1)

    return wrapper


pass_ctx = click.make_pass_decorator(Context)


def print_rows(columns: list[tuple[str, int]], rows: list[list[str]]) -> None:
    """A plain table that fits 80 columns: each column (title, width) is cut with an ellipsis."""

    def cell(value: str, width: int) -> str:
        value = " ".join(printable(value).split())
        return value if len(value) <= width else value[: width - 1] + "…"

    click.echo("  ".join(cell(t, w).ljust(w) for t, w in columns).rstrip())
    for row in rows:
        click.echo("  ".join(cell(v, w).ljust(w) for v, (_, w) in zip(row, columns)).rstrip())
