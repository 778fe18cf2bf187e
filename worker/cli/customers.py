"""`amends customer` and `amends retention`: people's data, handed over or erased on request,
and kept no longer than the config says."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..desk.customers import erase_customer, export_customer
from ..desk.retention import apply_retention
from ..desk.users import find_user
from ..store import utcnow
from .kit import Context, console, friendly, pass_ctx


@click.group()
def customer() -> None:
    """One customer's data: export it for them, or erase it."""


@customer.command("export")
@click.argument("address")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write the JSON here (default: stdout).")
@pass_ctx
@friendly
def customer_export(ctx: Context, address: str, out: str | None) -> None:
    """Everything Amends holds about ADDRESS, as JSON: their cases, every message (raw too),
    classifications, drafts and replies, follow-ups, survey answers and promises."""
    data = json.dumps(export_customer(ctx.store, address, utcnow()), indent=2, ensure_ascii=False, default=str)
    if out:
        Path(out).write_text(data + "\n", encoding="utf-8")
        Path(out).chmod(0o600)
        console.print(f"Written to {out}.", markup=False)
    else:
        click.echo(data)


@customer.command("erase")
@click.argument("address")
@click.option("--by", required=True, help="Your user name: the erasure is audited under it.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
@friendly
def customer_erase(ctx: Context, address: str, by: str, yes: bool) -> None:
    """Erase what Amends holds about ADDRESS: the words and addresses of their mail, drafts and
    replies; anything still to be sent to them is cancelled. Dates, labels and states stay for
    the report, and each message's key stays, so the copy still in the mailbox is never imported
    again. Amends does not touch the mail server: delete the mail there too if it must go."""
    name = find_user(ctx.store, by)["name"]
    if not yes:
        click.confirm(f"Erase everything held about {address}? This cannot be undone", abort=True)
    counts = erase_customer(ctx.store, address, name, utcnow())
    console.print(f"Erased {address}: {counts['messages']} message(s) in {counts['conversations']} case(s), "
                  f"{counts['drafts']} draft(s). The copies in the mailbox itself are untouched.", markup=False)
    if counts["corrections"]:
        console.print(f"{counts['corrections']} reviewer correction(s) of their mail trained the model: run "
                      "`amends retrain` so no model keeps their words.", markup=False)


@click.command()
@click.option("--dry-run", is_flag=True, help="Say what would go; change nothing.")
@pass_ctx
@friendly
def retention(ctx: Context, dry_run: bool) -> None:
    """Apply [store] raw_days and case_days now (a nightly job does it too): raw mail older
    than raw_days is deleted (its text stays); cases quiet for case_days with nothing left to
    do are erased as `customer erase` does."""
    keep = ctx.config.store
    if not (keep.raw_days or keep.case_days):
        click.echo(f"Everything is kept: set raw_days and case_days under [store] in {ctx.config.path}.")
        return
    done = apply_retention(ctx.store, ctx.config, utcnow(), dry_run)
    policy = f"raw_days = {keep.raw_days}, case_days = {keep.case_days}"
    if dry_run:
        click.echo(f"Retention ({policy}) would delete the raw mail of {done.raw_deleted} message(s); erase "
                   f"{done.cases_erased} quiet case(s) ({done.messages_erased} message(s)).")
    else:
        click.echo(f"Retention ({policy}): {done.describe()}.")


COMMANDS = [customer, retention]
