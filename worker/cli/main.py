"""``amends``: one command, a subcommand per job. Thin: it parses options and calls the library."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from classifiers.labels import model_dir_version

from ..config import DEMO_PATH, ENV_VAR
from ..config.sections import parse_draft_since
from ..desk.history import cut_off_of, reopen
from ..desk.users import find_user
from ..errors import AmendsError
from ..loop import PollSummary, Worker, run_desk
from ..store import utcnow
from . import customers as cli_customers
from . import detect as cli_detect
from . import messages as cli_messages
from . import review as cli_review
from .kit import Context, console, err_console, friendly, pass_ctx, printable
from .messages import print_messages

@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="TOML config file (default: $AMENDS_CONFIG, else config/amends.toml; `amends demo`: config/demo.toml).",
)
@click.version_option(package_name="amends")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Amends turns a shared support inbox into a customer-service-recovery desk.

    It reads new mail over IMAP (never marking it read), recognises complaints, drafts replies
    for a person to approve, and follows up. Start with `amends demo`.
    """
    ctx.obj = Context(config_path)


for _command in [*cli_detect.COMMANDS, *cli_review.COMMANDS, *cli_customers.COMMANDS, *cli_messages.COMMANDS]:
    main.add_command(_command)


# -- listening ------------------------------------------------------------------------------


def _progress_callback(progress: Progress) -> Callable[[str, int, int], None]:
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total or None)
        progress.update(tasks[stage], completed=done, total=total or None)

    return update


def print_summary(summary: PollSummary) -> None:
    ingest = summary.ingest
    console.print(
        f"Fetched {summary.fetched} message(s): {summary.new} new, {summary.duplicates} already "
        f"stored; {ingest.automated} automated, {ingest.quarantined} quarantined; "
        f"{summary.classified} classified, {summary.drafts.created} draft(s) written"
        + (f" ({summary.drafts.superseded} replaced by a newer message in the same case)" if summary.drafts.superseded else "")
        + f"; {summary.sending.describe()}."
    )


def poll_with_progress(ctx: Context, now: datetime) -> list[tuple[str, PollSummary]]:
    """One pass of every mailbox of the desk, one after the other."""
    return [(box.name, _poll_one(ctx, ctx.config.for_mailbox(box.name), now)) for box in ctx.config.mailboxes]


def print_summaries(results: list[tuple[str, PollSummary]]) -> None:
    for name, summary in results:
        if len(results) > 1:
            console.print(f"Mailbox {name}:", markup=False)
        print_summary(summary)


def _poll_one(ctx: Context, config, now: datetime) -> PollSummary:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as progress:
        worker = Worker(config, ctx.store, progress=_progress_callback(progress))
        with worker.inbox:
            return worker.tick(now)


@main.command()
@click.option("--once", is_flag=True, required=True, help="Read once and exit (the only mode).")
@pass_ctx
@friendly
def poll(ctx: Context, once: bool) -> None:
    """Read new mail from every configured folder once, store and parse it, and exit.

    Safe to run at any time, also beside `amends run`: nothing is stored twice.
    """
    warn_of_renamed_mailboxes(ctx)
    print_summaries(poll_with_progress(ctx, utcnow()))


@main.command()
@pass_ctx
@friendly
def run(ctx: Context) -> None:
    """Run the worker until Ctrl-C or SIGTERM: IDLE (or poll), ingest, repeat.

    Every mailbox of the config is served at once, each with its own connection. Network and
    server errors are logged and followed by a reconnect with backoff, per mailbox.
    """
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        logging.getLogger("amends").info("stopping (signal %s)", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    ctx.store.schema_version()  # opening the store migrates it: once, before each mailbox opens its own
    warn_of_renamed_mailboxes(ctx)
    run_desk(ctx.config, stop)


def _age(value: str | None, now: datetime) -> timedelta | None:
    return now - datetime.fromisoformat(value) if value else None


def _human(delta: timedelta | None) -> str:
    if delta is None:
        return "never"
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


@main.command()
@pass_ctx
@friendly
def status(ctx: Context) -> None:
    """Show when each folder was last read successfully, and what is stored.

    Exits 1 when a folder has not been read for longer than imap.stale_after_minutes (the
    usual silent failure of mail pollers), or when a stage has had work waiting that long:
    mail not parsed, replies not sent or not filed in Sent, jobs overdue. Worth wiring into
    monitoring.
    """
    warn_of_renamed_mailboxes(ctx)
    now = utcnow()
    limit = timedelta(minutes=ctx.config.imap.stale_after_minutes)
    cursors = {(b["mailbox"], b["folder"]): b for b in ctx.store.mailboxes()}
    sign_ins = {t["mailbox"]: t for t in ctx.store.tokens()}
    table = Table("mailbox", "folder", "last successful check", "last UID", "last error")
    stale = []
    for mailbox in ctx.config.mailboxes:
        for folder in mailbox.imap.folders:
            box = cursors.get((mailbox.name, folder), {})
            age = _age(box.get("last_check_at"), now)
            if age is None or age > limit:
                stale.append(f"{mailbox.name}/{folder}")
            error = f"{box['last_error']} ({_human(_age(box['last_error_at'], now))})" if box.get("last_error") else ""
            table.add_row(mailbox.name, folder, _human(age), str(box.get("last_uid", "-")), error)
    console.print(table)
    for mailbox in ctx.config.mailboxes:
        cut = cut_off_of(ctx.store, mailbox.name)
        if cut is None:
            console.print(f"Mailbox {mailbox.name}: not connected yet; mail older than the first connection "
                          "will be kept as history, not answered ([imap] draft_since).", markup=False)
        elif cut.draft_since is not None:
            reopened = f"; complaints from {cut.reopened_since:%d %b %Y} reopened" if cut.reopened_since else ""
            console.print(f"Mailbox {mailbox.name}: answering mail from {cut.draft_since:%d %b %Y %H:%M} UTC "
                          f"(first connected {cut.connected_at:%d %b %Y %H:%M}); older mail is history{reopened}.",
                          markup=False)
    for mailbox in ctx.config.mailboxes:
        if mailbox.imap.auth == "oauth2":
            token = sign_ins.get(mailbox.name)
            if token is None or token["state"] != "ok":
                stale.append(f"{mailbox.name} (needs sign-in)")
                why = token["error"] if token else "never signed in"
                console.print(f"Mailbox {mailbox.name} needs sign-in ({why}): run `amends auth login {mailbox.name}`",
                              markup=False)
    counts = ctx.store.counts()
    console.print(
        f"Messages: {counts.get('parsed', 0)} parsed, {counts.get('new', 0)} waiting, "
        f"{counts.get('quarantined', 0)} quarantined, {counts['automated']} automated; "
        f"{counts['conversations']} conversations."
    )
    stalled = ctx.store.stalled(now - limit)
    if stale:
        click.echo(
            f"warning: not checked for over {ctx.config.imap.stale_after_minutes} min: "
            f"{', '.join(stale)}. Is `amends run` running, and can it reach "
            f"{', '.join(sorted({m.imap.host for m in ctx.config.mailboxes}))}?",
            err=True,
        )
    for what in stalled:
        click.echo(f"warning: waiting for over {ctx.config.imap.stale_after_minutes} min: {printable(what)}", err=True)
    if stale or stalled:
        sys.exit(1)


# -- mailboxes -----------------------------------------------------------------------------------


def warn_of_renamed_mailboxes(ctx: Context) -> None:
    """A mailbox renamed in the config leaves its cursors and cases under the old name: its
    folders would be read again from the start, and replies in its cases would go out from
    the first mailbox. Say so, with the command that carries them over."""
    names = [box.name for box in ctx.config.mailboxes]
    for gone in sorted(ctx.store.mailbox_names() - set(names)):
        click.echo(f"warning: the store has mailbox {gone!r}, which {ctx.config.path} does not name: its cases' "
                   f"replies would go out from {names[0]!r}. If you renamed it, run "
                   f"`amends mailbox rename {gone} NEW-NAME`.", err=True)


@main.group()
def mailbox() -> None:
    """Mailboxes the store knows by name."""


@mailbox.command("rename")
@click.argument("old")
@click.argument("new")
@pass_ctx
@friendly
def mailbox_rename(ctx: Context, old: str, new: str) -> None:
    """Carry mailbox OLD's read positions, cases, outbox and sign-in over to NEW, after
    renaming it in the config. Stop `amends run` first."""
    names = [box.name for box in ctx.config.mailboxes]
    if new not in names:
        raise AmendsError(f"{ctx.config.path} has no mailbox {new!r}: rename it there first (mailboxes: {', '.join(names)})")
    if old in names:
        raise AmendsError(f"{ctx.config.path} still has mailbox {old!r}: rename it there first")
    if old not in ctx.store.mailbox_names():
        raise AmendsError(f"the store has no mailbox {old!r} (it knows: {', '.join(sorted(ctx.store.mailbox_names())) or 'none'})")
    moved = ctx.store.rename_mailbox(old, new)
    click.echo(f"Mailbox {old} is now {new}: {moved} case(s) moved; its folders go on from where they were.")


@main.group()
def cases() -> None:
    """Cases across the desk."""


@cases.command("reopen")
@click.option("--since", "since", required=True, metavar="DATE",
              help="Bring in complaints from this date (2026-11-01) on that came before the mailbox's cut-off.")
@click.option("--mailbox", "mailbox_name", metavar="NAME", help="Only this mailbox (default: every mailbox).")
@click.option("--by", "by", required=True, metavar="USER", help="Who asks for it: recorded in the audit trail.")
@pass_ctx
@friendly
def cases_reopen(ctx: Context, since: str, mailbox_name: str | None, by: str) -> None:
    """Pull older, never-answered complaints into the queue on purpose.

    A mailbox's history (mail from before it was first connected, or before [imap]
    draft_since) is imported but never drafted, alerted or followed up. This drafts its
    complaints from DATE on whose case has no reply from us; no leadership alert is sent for
    them."""
    try:
        moment = parse_draft_since(since)
    except ValueError:
        moment = None
    if not isinstance(moment, datetime):
        raise AmendsError(f"--since {since!r} is not a date: write it as 2026-11-01")
    user = find_user(ctx.store, by)
    count = reopen(ctx.store, ctx.config, moment, user["name"], utcnow(), mailbox_name)
    click.echo(f"{count} message(s) from {moment:%d %b %Y} on will be drafted on the worker's next pass.")


# -- signing mailboxes in ----------------------------------------------------------------------


@main.group()
def auth() -> None:
    """Sign mailboxes in with OAuth2 (Gmail, Microsoft 365), and make the key that guards it."""


@auth.command("login")
@click.argument("mailbox", required=False)
@pass_ctx
@friendly
def auth_login(ctx: Context, mailbox: str | None) -> None:
    """Sign MAILBOX in (the only one when there is one): follow the link it prints, approve,
    and the worker can read and send as that account. Run it again when a sign-in expires."""
    from ..mail.oauth import sign_in

    names = [box.name for box in ctx.config.mailboxes]
    name = mailbox or (names[0] if len(names) == 1 else None)
    if name not in names:
        raise AmendsError(f"name the mailbox to sign in: one of {', '.join(names)}")
    config = ctx.config.for_mailbox(name)
    if config.imap.auth != "oauth2":
        raise AmendsError(f'mailbox {name} signs in with a password; set auth = "oauth2" for it in {config.path}')
    sign_in(ctx.store, config, click.echo, utcnow())  # plain: a URL and a code must never wrap
    click.echo(f"Mailbox {name} is signed in as {config.imap.username}; `amends run` uses it from now on.")


@auth.command("key")
def auth_key() -> None:
    """Print a new key for AMENDS_TOKEN_KEY, which encrypts the stored sign-ins."""
    from ..mail.oauth import new_key

    click.echo(new_key())
    click.echo("Keep it in the environment of `amends run` and `amends auth login`, e.g.\n"
               "  export AMENDS_TOKEN_KEY='<the line above>'\n"
               "Without it the stored sign-ins cannot be read: a new key means signing in again.", err=True)


# -- demo ---------------------------------------------------------------------------------


@main.command()
@click.option("--reset", is_flag=True, help="Delete the demo database first and start afresh.")
@click.option("--once", is_flag=True, help="One pass, then stop the servers and exit.")
@pass_ctx
@friendly
def demo(ctx: Context, reset: bool, once: bool) -> None:
    """Run the whole desk locally: demo inbox, worker, review pages and an SMTP sink.

    Uses config/demo.toml (everything on 127.0.0.1) unless --config or $AMENDS_CONFIG names
    another; it refuses a config that points at another server. A port that is taken is
    swapped for a free one. Sent mail lands in var/demo-mail/ as .eml files. Runs until Ctrl-C,
    or one pass with --once. One demo at a time: beside a running one, use its config
    (var/demo-run.toml) with the other commands.
    """
    from ..demo import run as demo_module  # the SMTP sink and the web server: only the demo needs them

    if ctx.config_path is None and not os.environ.get(ENV_VAR):
        ctx.config_path = DEMO_PATH
    demo_module.check_local(ctx.config)
    lock = demo_module.only_one_demo(ctx.config)  # noqa: F841  held until the demo ends
    config, notes = demo_module.choose_ports(ctx.config)
    for note in notes:
        console.print(note, markup=False)
    ctx.use_config(config)
    if reset:
        demo_module.reset_store(config)
    if model_dir_version(Path(config.classifier.model_dir)) is None:
        console.print("No classifier model yet: training one on the shipped data (a minute or more: it encodes 28,025 texts once).")
        click.get_current_context().invoke(cli_detect.train, data=(), folds=3, make_active=True, brief=True)
    demo_module.ensure_secret_key(config)
    server = demo_module.start_server(config)
    sink = None
    try:
        sink = demo_module.start_smtp_sink(config, config.data_dir / "demo-mail")
        count = demo_module.seed(config, server.password)
        console.print(f"Demo IMAP server on 127.0.0.1:{config.imap.port} with {count} messages; "
                      f"SMTP sink on 127.0.0.1:{config.smtp.port} writing to {config.data_dir / 'demo-mail'}.")
        print_summaries(poll_with_progress(ctx, utcnow()))
        print_messages(ctx.store.messages(limit=50))
        pending = ctx.store.drafts(state="pending")
        console.print(f"{len(pending)} draft(s) waiting for review.")
        if once:
            return
        name, password = demo_module.demo_user(ctx.store, utcnow(), config.drafts.hold_for.values())
        run_config = demo_module.write_run_config(config)
        stop_web = demo_module.serve_web(config)
        console.print(f"\nReview pages: {config.web.base_url}/  (user [bold]{name}[/], password [bold]{password}[/])",
                      markup=True, highlight=False)
        activate = Path(sys.prefix) / "bin" / "activate"
        console.print("Approve a draft there; the worker sends it to the SMTP sink. Ctrl-C stops everything.\n"
                      "In another terminal, to see the follow-up and the survey (links work while the demo runs):\n"
                      + (f"  . {activate}\n" if activate.exists() else "") +
                      f"  export AMENDS_CONFIG={run_config}\n"
                      f"  export {config.web.secret_key_env}=$(cat {config.data_dir / 'demo-secret'})\n"
                      f"  export {config.imap.password_env}={os.environ[config.imap.password_env]}\n"
                      "  amends jobs run-due --now 2030-01-07T10:00:00+00:00")
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            Worker(config, ctx.store).run(stop)
        finally:
            stop_web()
    finally:
        if sink is not None:
            sink.stop()
        server.stop()
