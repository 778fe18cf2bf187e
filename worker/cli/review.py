"""`amends drafts`, `send`, `user` and `web`: the review side on the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..desk.actions import DECISIONS, LABELS, asks_of, unconfirmed
from ..desk.language import name as language_name
from ..desk.outbox import Sender, SendSummary
from ..desk.review import approve, carried_edits, edits_diff, get_draft, reject
from ..desk.users import (add_user, change_password, check_new_user, check_password, find_user, remove_user,
                          set_admin, set_email, set_role, set_signature)
from ..errors import AmendsError
from ..mail.inbox import Inbox
from ..mail.oauth import tokens_for
from ..store import utcnow
from .kit import Context, console, friendly, pass_ctx, print_rows, printable, shown

DRAFT_STATES = ["pending", "approved", "sent", "rejected", "superseded", "failed"]


@click.group()
def drafts() -> None:
    """Review drafted replies: list, show, approve, reject."""


@drafts.command("list")
@click.option("--state", type=click.Choice(DRAFT_STATES), help="Only drafts in this state.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@pass_ctx
@friendly
def drafts_list(ctx: Context, state: str | None, as_json: bool) -> None:
    """Drafts, worst first then oldest: the review queue."""
    rows = ctx.store.drafts(state=state)
    for row in rows:
        message = ctx.store.message(row["message_pk"])
        row["message_id"] = message["message_id"] if message else None
        row["to"] = row.pop("to_addr")
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    print_rows(
        [("id", 4), ("state", 9), ("severity", 8), ("category", 8), ("to", 18), ("subject", 20)],
        [[str(r["id"]), r["state"], r["severity"] or "", r["category"] or "", r["to"],
          ("[reopened] " if r["survey_id"] else "") + r["subject"]] for r in rows],
    )


@drafts.command("show")
@click.argument("draft_id", type=int)
@pass_ctx
@friendly
def drafts_show(ctx: Context, draft_id: int) -> None:
    """One draft: what it answers, its text, and any edits."""
    draft = get_draft(ctx.store, draft_id)
    for label, key in [("State", "state"), ("Kind", "kind"), ("To", "to_addr"), ("Subject", "subject"),
                       ("Severity", "severity"), ("Category", "category"), ("Held for the role", "hold_role"),
                       ("Decided by", "decided_by"), ("Rejected because", "reject_reason"), ("Error", "error")]:
        if draft.get(key):
            console.print(f"[bold]{label}:[/] {shown(draft[key])}", markup=True, highlight=False)
    if draft["customer_language"] and draft["customer_language"] != draft["language"]:
        console.print(f"[bold]Language:[/] the customer wrote in {language_name(draft['customer_language'])}; "
                      f"this draft is in {language_name(draft['language'])}", highlight=False)
    for ask in asks_of(draft):
        decided = f"{DECISIONS[ask['decision']]}" + (f" ({ask['detail']})" if ask.get("detail") else "") \
            if ask.get("decision") else "not confirmed yet"
        console.print(f"[bold]Asked for:[/] {LABELS[ask['kind']]}" + (f" {ask['amount']}" if ask.get("amount") else "")
                      + f": {shown(ask['words'])}; {decided}", highlight=False)
    for rule in (json.loads(draft["stakes"])["rules"] if draft["stakes"] else []):
        console.print(f"[bold]High stakes:[/] {shown(rule)}", highlight=False)
    if draft["survey_id"]:
        survey = ctx.store.survey(draft["survey_id"])
        console.print(f"[bold]Reopened:[/] the customer scored {survey['score']} of 5"
                      + (f": {shown(survey['comment'])}" if survey["comment"] else ""), highlight=False)
    console.rule("reply ({deadline} becomes the promised time when approved)" if "{deadline}" in draft["body"] else "reply")
    console.print(printable(draft["body"]), markup=False, highlight=False)
    for title, diff in (("your edits", edits_diff(draft)), ("edits on the draft this replaced", carried_edits(ctx.store, draft))):
        if diff:
            console.rule(title)
            console.print(printable(diff), markup=False, highlight=False)


@drafts.command("approve")
@click.argument("draft_id", type=int)
@click.option("--by", required=True, help="Your user name (`amends user list`): it signs the reply and goes into the audit log.")
@click.option("--body-file", type=click.Path(exists=True, dir_okay=False), help="Send this text instead of the draft.")
@click.option("--as-drafted", is_flag=True, help="The reply's answers to what the customer asked stand as written.")
@pass_ctx
@friendly
def drafts_approve(ctx: Context, draft_id: int, by: str, body_file: str | None, as_drafted: bool) -> None:
    """Approve a draft; `amends run` (or `amends send --once`) sends it, exactly once.

    A draft that answers what the customer asked for (a refund, a call back...) promises it:
    confirm each on the draft page, or say --as-drafted (or send your own --body-file)."""
    waiting = unconfirmed(get_draft(ctx.store, draft_id))
    if waiting and not (as_drafted or body_file):
        raise AmendsError(f"draft {draft_id} answers what the customer asked for ({waiting}): confirm each on the "
                          "draft page, or pass --as-drafted if the answers stand as written")
    body = Path(body_file).read_text(encoding="utf-8") if body_file else None
    outbox_id = approve(ctx.store, ctx.config, draft_id, find_user(ctx.store, by)["name"], utcnow(), body=body)
    console.print(f"Draft {draft_id} approved; queued as outbox message {outbox_id}.")


@drafts.command("reject")
@click.argument("draft_id", type=int)
@click.option("--by", required=True, help="Your user name, for the audit log.")
@click.option("--reason", required=True, help="Why: it is kept and shown to the team.")
@pass_ctx
@friendly
def drafts_reject(ctx: Context, draft_id: int, by: str, reason: str) -> None:
    """Reject a draft; nothing is sent."""
    reject(ctx.store, draft_id, find_user(ctx.store, by)["name"], reason, utcnow())
    console.print(f"Draft {draft_id} rejected.")


@click.command()
@click.option("--once", is_flag=True, required=True, help="Send what is due and exit (the only mode).")
@pass_ctx
@friendly
def send(ctx: Context, once: bool) -> None:
    """Send approved replies that are due, each exactly once, from each mailbox, and exit."""
    summary = send_all(ctx, utcnow())
    console.print(f"Sent {summary.sent}, retrying {summary.retried}, failed {summary.failed}.")


def send_all(ctx: Context, now) -> SendSummary:
    """What is due in every mailbox, each from its own address (and filed in its own Sent)."""
    total = SendSummary()
    for box in ctx.config.mailboxes:
        config = ctx.config.for_mailbox(box.name)
        with Inbox(config, tokens_for(config, ctx.store)) as inbox:
            done = Sender(config, ctx.store, inbox).send_due(now)
        total.sent, total.retried, total.failed = total.sent + done.sent, total.retried + done.retried, total.failed + done.failed
        for kind, to in done.to.items():
            total.to.setdefault(kind, []).extend(to)
    return total


@click.group()
def user() -> None:
    """People who may use the review pages."""


def _new_password(given: str | None) -> str:
    """Asked for only once the rest is known to be fine, and checked before the second ask."""
    if given is not None:
        return given
    while True:
        password = click.prompt("Password", hide_input=True)
        try:
            check_password(password)
        except AmendsError as exc:
            click.echo(f"error: {exc}", err=True)
            continue
        if click.prompt("Repeat for confirmation", hide_input=True) == password:
            return password
        click.echo("error: the two entered values do not match", err=True)


@user.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="May also tune thresholds and edit settings.")
@click.option("--password", help="Prompted when not given (safer: not in your shell history).")
@pass_ctx
@friendly
def user_add(ctx: Context, name: str, admin: bool, password: str | None) -> None:
    """Add a user; the password is stored as a scrypt hash."""
    check_new_user(ctx.store, name)
    add_user(ctx.store, name, _new_password(password), admin, utcnow())
    console.print(f"User {name} added{' (admin)' if admin else ''}.", markup=False)


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@pass_ctx
@friendly
def user_list(ctx: Context, as_json: bool) -> None:
    """Who may sign in: admin or not, roles, reminder address, last sign-in."""
    rows = [{"name": u["name"], "admin": bool(u["is_admin"]), "roles": [r for r in u["roles"].split(",") if r],
             "email": u["email"], "last_login_at": u["last_login_at"]} for u in ctx.store.users()]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    print_rows([("name", 20), ("admin", 5), ("roles", 14), ("email", 22), ("last sign-in", 16)],
               [[r["name"], "yes" if r["admin"] else "", ",".join(r["roles"]), r["email"] or "",
                 (r["last_login_at"] or "never")[:16].replace("T", " ")] for r in rows])


@user.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
@friendly
def user_remove(ctx: Context, name: str, yes: bool) -> None:
    """Remove a user: they cannot sign in any more and their sessions end. What they decided stays."""
    if not yes:
        click.confirm(f"Remove {name}?", abort=True)
    remove_user(ctx.store, name, utcnow())
    console.print(f"User {name} removed.", markup=False)


@user.command("set-admin")
@click.argument("name")
@click.option("--no", "revoke", is_flag=True, help="Take admin rights away instead.")
@pass_ctx
@friendly
def user_set_admin(ctx: Context, name: str, revoke: bool) -> None:
    """Make NAME an admin (thresholds, settings), or not (--no)."""
    set_admin(ctx.store, name, not revoke, utcnow())
    console.print(f"{name} is {'no longer ' if revoke else ''}an admin.", markup=False)


@user.command("passwd")
@click.argument("name")
@click.option("--password", help="Prompted when not given (safer: not in your shell history).")
@pass_ctx
@friendly
def user_passwd(ctx: Context, name: str, password: str | None) -> None:
    """Set a new password; the user's open sessions end at once, on every device."""
    find_user(ctx.store, name)
    change_password(ctx.store, name, _new_password(password), utcnow())
    console.print(f"New password for {name}; their open sessions have ended.")


@user.command("role")
@click.argument("name")
@click.argument("role")
@click.option("--remove", is_flag=True, help="Take the role away instead.")
@pass_ctx
@friendly
def user_role(ctx: Context, name: str, role: str, remove: bool) -> None:
    """Give NAME a ROLE (or take it away). Drafts held for a role, e.g. legal threats held
    for "legal" by [drafts] hold_for, can only be approved by someone with it."""
    roles = set_role(ctx.store, name, role, not remove, utcnow())
    console.print(f"{name}'s roles: {', '.join(sorted(roles)) or 'none'}.", markup=False)


@user.command("sign-as")
@click.argument("name")
@click.argument("signature")
@pass_ctx
@friendly
def user_sign_as(ctx: Context, name: str, signature: str) -> None:
    """Sign NAME's replies as SIGNATURE ("Sam Taylor"), when their login name is not how they
    sign to customers."""
    set_signature(ctx.store, name, signature, utcnow())
    console.print(f"Replies approved by {name} are signed {' '.join(signature.split())!r}.", markup=False)


@user.command("email")
@click.argument("name")
@click.argument("address")
@pass_ctx
@friendly
def user_email(ctx: Context, name: str, address: str) -> None:
    """Where NAME is warned before a time they promised a customer falls due."""
    set_email(ctx.store, name, address, utcnow())
    console.print(f"{name} is warned at {address}.", markup=False)


@click.command()
def secret() -> None:
    """Print a new random secret key for AMENDS_SECRET_KEY (signs sessions and survey links)."""
    import secrets

    click.echo(secrets.token_urlsafe(32))
    click.echo("Put it in the environment of `amends web`, `amends run` and `amends jobs run-due`, e.g.\n"
               "  export AMENDS_SECRET_KEY='<the line above>'\n"
               "Changing it signs everyone out and voids survey links already sent.", err=True)


@click.command()
@click.option("--host", help="Address to listen on (default: web.host, 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: web.port).")
@pass_ctx
@friendly
def web(ctx: Context, host: str | None, port: int | None) -> None:
    """Serve the review pages (login required) until Ctrl-C."""
    from waitress import serve

    from ..web import MAX_REQUEST_BYTES, create_app, quiet_server_logs

    config = ctx.config
    app = create_app(config)
    host = host or config.web.host
    port = port or config.web.port
    console.print(f"Review pages on http://{host}:{port}/ (Ctrl-C to stop)")
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"warning: {host} is reachable from other machines, and these pages speak plain HTTP: "
                      "put a TLS proxy in front of them, with web.base_url set to its https:// address.",
                      markup=False, highlight=False)
    sys.stdout.flush()
    quiet_server_logs()
    serve(app, host=host, port=port, threads=4, ident="amends", max_request_body_size=MAX_REQUEST_BYTES)


@click.group()
def jobs() -> None:
    """Scheduled follow-ups, surveys and alerts."""


@jobs.command("list")
@click.option("--state", type=click.Choice(["scheduled", "done", "cancelled", "failed"]))
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@pass_ctx
@friendly
def jobs_list(ctx: Context, state: str | None, as_json: bool) -> None:
    """Jobs by due time."""
    rows = ctx.store.jobs(state=state)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    print_rows([("id", 4), ("kind", 16), ("conv", 4), ("due (UTC)", 16), ("state", 9), ("note", 22)],
               [[str(r["id"]), r["kind"], str(r["conversation_id"] or ""), r["due_at"][:16].replace("T", " "),
                 r["state"], r["reason"] or r["last_error"] or ""] for r in rows])


@jobs.command("run-due")
@click.option("--now", "now_text", metavar="ISO-8601", help="Act as if it were this moment (tests, scripts, the demo).")
@pass_ctx
@friendly
def jobs_run_due(ctx: Context, now_text: str | None) -> None:
    """Schedule what needs scheduling, run what is due at NOW, and send the resulting mail."""
    from datetime import datetime, timezone

    from ..desk.jobs import JobRunner, schedule

    try:
        now = datetime.fromisoformat(now_text) if now_text else utcnow()
    except ValueError:
        raise AmendsError(f"--now: not an ISO-8601 time: {now_text!r} (e.g. 2026-11-30T10:00:00+00:00)") from None
    now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    scheduled = schedule(ctx.store, ctx.config, now)
    done = JobRunner(ctx.config, ctx.store).run_due(now)
    sent = send_all(ctx, now)
    console.print(f"Scheduled {scheduled.scheduled}, cancelled {scheduled.cancelled}, ran {done.done}, "
                  f"moved to business hours {done.moved}; sent {sent.sent}.")


@click.command()
@click.option("--since", metavar="DATE", help="Only from this date on (YYYY-MM-DD).")
@click.option("--png", "png_dir", type=click.Path(file_okay=False), help="Also draw the charts into this directory.")
@pass_ctx
@friendly
def report(ctx: Context, since: str | None, png_dir: str | None) -> None:
    """What goes wrong most, how fast and how well we put it right."""
    from datetime import datetime, timezone

    from ..desk.report import Report, build_report, write_charts

    try:
        start = datetime.fromisoformat(since).replace(tzinfo=timezone.utc) if since else None
    except ValueError:
        raise AmendsError(f"--since: not a date: {since!r} (use YYYY-MM-DD)") from None
    r = build_report(ctx.store, start)
    console.print(f"Complaints{' since ' + since if since else ''}: {r.complaints}; "
                  f"repeat complainers: {r.repeat_rate:.0%} of customers who complained")
    console.print("Severity mix: " + ", ".join(f"{k} {v}" for k, v in r.severity_mix.most_common()))
    for week, counts in r.per_week.items():
        console.print(f"  {week}: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()), markup=False)
    decided = sum(r.decisions.values())
    if decided:
        console.print("Drafts: " + ", ".join(f"{k} {v} ({v / decided:.0%})" for k, v in r.decisions.most_common()))
    for week, (approved, rejected, n) in r.approval_rates().items():
        console.print(f"  {week}: approved {approved:.0%}, rejected {rejected:.0%} of {n} decided", markup=False)
    if r.reopened:
        console.print(f"Reopened after a survey score of 1 or 2: {r.reopened}")
    hours, edits = Report.median(r.first_reply_hours), Report.median(r.edit_ratio)
    if hours is not None:
        console.print(f"Time to first reply (received to sent): median {hours:.1f} h over {len(r.first_reply_hours)} replies")
    if edits is not None:
        console.print(f"Reviewers changed a median {edits:.0%} of the drafted text")
    for level, scores in r.csat.items():
        console.print(f"CSAT after a {level} complaint: {sum(scores) / len(scores):.2f} of 5 ({len(scores)} answers)")
    for category, terms in r.terms.items():
        console.print(f"Root causes, {category}: " + ", ".join(f"{t} ({n})" for t, n in terms), markup=False)
    if png_dir:
        for path in write_charts(r, Path(png_dir)):
            console.print(f"Chart: {path}")


COMMANDS = [drafts, send, user, secret, web, jobs, report]
