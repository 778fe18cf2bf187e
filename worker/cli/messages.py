"""`amends messages` and `amends quarantine`: what was stored, and what could not be processed."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from ..desk.ingest import process_messages
from ..errors import AmendsError, NotFound
from ..store import utcnow
from .kit import Context, console, friendly, pass_ctx, print_rows, printable, shown


@click.group()
def messages() -> None:
    """List and show stored messages."""


@messages.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
@click.option("--state", type=click.Choice(["new", "parsed", "quarantined"]), help="Only this state.")
@pass_ctx
@friendly
def messages_list(ctx: Context, as_json: bool, limit: int, state: str | None) -> None:
    """List stored messages, newest first."""
    rows = ctx.store.messages(limit=limit, state=state)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    print_messages(rows)


def print_messages(rows: list[dict]) -> None:
    print_rows(
        [("id", 4), ("from", 20), ("subject", 22), ("date", 11), ("conv", 4), ("verdict", 9)],
        [[str(r["id"]), r["from"] or "", r["subject"] or "", (r["date"] or "")[5:16].replace("T", " "),
          str(r["conversation_id"] or ""), _verdict(r)] for r in rows],
    )


def _verdict(row: dict) -> str:
    if row["state"] == "quarantined":
        return "quarantined"
    if row["automated"]:
        return f"auto: {row['automated']}"
    if row.get("complaint"):
        return f"{row['severity']} {row['category']}"
    return "" if row.get("complaint") is None else "not a complaint"


def _get_message(ctx: Context, message_id: int) -> dict:
    row = ctx.store.message(message_id)
    if row is None:
        raise NotFound(f"no message with id {message_id} (see `amends messages list`)")
    return row


@messages.command("show")
@click.argument("message_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="All stored fields as JSON.")
@pass_ctx
@friendly
def messages_show(ctx: Context, message_id: int, as_json: bool) -> None:
    """Show one message: headers, the customer's new words, and what Amends made of it."""
    row = _get_message(ctx, message_id)
    if as_json:
        row["classifications"] = ctx.store.classifications(message_id)
        click.echo(json.dumps(row, indent=2, ensure_ascii=False))
        return
    for label, key in [
        ("From", "from_addr"), ("Name", "from_name"), ("Subject", "subject"), ("Date", "date"),
        ("Message-ID", "message_id"), ("Conversation", "conversation_id"),
        ("Automated", "automated"), ("State", "state"), ("Quarantine", "quarantine_reason"),
    ]:
        if row.get(key) is not None:
            console.print(f"[bold]{label}:[/] {shown(row[key])}", highlight=False, markup=True)
    for attachment in row.get("attachments") or []:
        console.print(f"[bold]Attachment:[/] {shown(attachment['name'])} ({shown(attachment['content_type'])}, "
                      f"{attachment['size']:,} bytes)", markup=True, highlight=False)
    history = ctx.store.classifications(message_id)
    if history:
        c = history[0]
        verdict = (f"complaint, {c['severity']}, {c['category']}" if c["complaint"] else "not a complaint")
        console.print(f"[bold]Classified:[/] {verdict} (P={c['complaint_probability']:.2f}, model {c['model_version']})",
                      markup=True, highlight=False)
        if c["severity_probabilities"]:
            levels = ", ".join(f"{k} {v:.2f}" for k, v in c["severity_probabilities"].items())
            console.print(f"[bold]Severity:[/] {levels}", markup=True, highlight=False)
        for reason in c["reasons"]:
            console.print(f"  - {printable(reason)}", markup=False, highlight=False)
        if len(history) > 1:
            console.print(f"  ({len(history) - 1} earlier classification(s) kept)", markup=False)
    console.rule("new text")
    console.print(printable(row.get("new_text") or ""), markup=False, highlight=False)
    if row.get("text") and row["text"] != row.get("new_text"):
        console.rule("full text")
        console.print(printable(row["text"]), markup=False, highlight=False)


@click.group()
def quarantine() -> None:
    """Messages that could not be processed, kept raw with the reason."""


@quarantine.command("list")
@pass_ctx
@friendly
def quarantine_list(ctx: Context) -> None:
    """List quarantined messages and why."""
    rows = ctx.store.quarantined()
    if not rows:
        console.print("Quarantine is empty.")
        return
    table = Table("id", "folder", "uid", "size", "reason")
    for row in rows:
        table.add_row(str(row["id"]), shown(row["folder"] or ""), str(row["uid"]), f"{row['size']:,}",
                      shown(row["quarantine_reason"]))
    console.print(table)


@quarantine.command("show")
@click.argument("message_id", type=int)
@click.option("--raw", is_flag=True, help="Print the raw bytes as stored.")
@pass_ctx
@friendly
def quarantine_show(ctx: Context, message_id: int, raw: bool) -> None:
    """Show a quarantined message: the reason and the start of its raw bytes."""
    row = _get_message(ctx, message_id)
    data = ctx.store.raw(message_id)
    if raw:
        sys.stdout.buffer.write(data)
        return
    console.print(f"[bold]Reason:[/] {shown(row.get('quarantine_reason') or '(not quarantined)')}", markup=True, highlight=False)
    console.print(f"[bold]Size:[/] {len(data):,} bytes", markup=True)
    console.rule("first 2,000 bytes")
    console.print(printable(data[:2000].decode("utf-8", "replace")), markup=False, highlight=False)


@quarantine.command("retry")
@click.argument("message_id", type=int)
@pass_ctx
@friendly
def quarantine_retry(ctx: Context, message_id: int) -> None:
    """Process a quarantined message again, with the current code and config."""
    row = _get_message(ctx, message_id)
    if row["state"] != "quarantined":
        raise AmendsError(f"message {message_id} is not quarantined (state: {row['state']})")
    ctx.store.requeue(message_id)
    counts = process_messages(ctx.store, ctx.config, [message_id], utcnow())
    if counts.quarantined:
        again = ctx.store.message(message_id)
        raise AmendsError(f"message {message_id} is still quarantined: {again['quarantine_reason']}")
    console.print(f"Message {message_id} processed.")


COMMANDS = [messages, quarantine]
