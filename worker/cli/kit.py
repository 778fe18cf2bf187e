"""What every `amends` command shares: the lazily loaded config and store, errors, output."""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from ..config import DEFAULT_PATH, ENV_VAR, Config, load_config
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

    def defaults_without_a_file(self) -> None:
        """For the commands that read no mailbox (train, classify, evaluate, model): with no
        config file named and none at the default path, the defaults (models under var/)."""
        if self._config is None and self.config_path is None and not os.environ.get(ENV_VAR) \
                and not Path(DEFAULT_PATH).exists():
            self.use_config(Config(path="(the defaults: no config file)"))
            setup_logging(self._config.log.level)

    def use_config(self, config: Config) -> None:
        """A command that adjusts the config (the demo's ports) before anything uses it."""
        self._config = config

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.config.store.path, self.config.store.busy_timeout_seconds)
        return self._store


class _CurrentStderr(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is at each line: while a progress bar is on screen it
    stands in for stderr and keeps log lines above the bar instead of through it."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        handlers=[_CurrentStderr()],
        force=True,
    )
    logging.getLogger("matplotlib").setLevel(logging.ERROR)  # "building the font cache" is not news for a person


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
    """A plain table as wide as the terminal. Each column is as wide as its longest value;
    when the table is wider than the terminal, the widest columns are cut (with an ellipsis)
    down to their width in ``columns`` (title, width), the widest first."""
    table = [[" ".join(printable(v).split()) for v in row] for row in [[t for t, _ in columns], *rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    room = shutil.get_terminal_size((80, 24)).columns - 2 * (len(columns) - 1)
    while sum(widths) > room:
        i = max(range(len(widths)), key=lambda i: widths[i] - columns[i][1])
        over = widths[i] - columns[i][1]
        if over <= 0:
            break
        widths[i] -= min(over, sum(widths) - room)

    def cell(value: str, width: int) -> str:
        return value if len(value) <= width else value[: width - 1] + "…"

    for row in table:
        click.echo("  ".join(cell(v, w).ljust(w) for v, w in zip(row, widths)).rstrip())
