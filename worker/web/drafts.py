"""The queue and the draft page: where the team spends its day."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from classifiers.labels import CATEGORIES, SEVERITIES

from ..desk.actions import DECISIONS, LABELS, asks_of, decide, unconfirmed, undecided
from ..desk.drafts import DEADLINE, unanswered, urgent_draft
from ..desk.hours import BusinessHours
from ..desk.language import name as language_name
from ..desk.review import (StaleDraft, approve, assign, carried_edits, case_history, correct_labels, edits_diff, promise,
                           reject, roles_of, save_edit)
from ..desk.stakes import admissions
from ..errors import AmendsError
from ..mail.parse import address_in_name
from ..store import utcnow
from . import config, store, templates

bp = Blueprint("drafts", __name__)
STATES = ("open", "pending", "failed", "approved", "sent", "rejected", "superseded")
OPEN = ("pending", "failed")


def _due(rows: list[dict], now: datetime) -> None:
    """First-response target per severity, in business hours from the first unanswered message."""
    business = BusinessHours.of(config())
    targets = config().queue.first_response_hours
    for row in rows:
        row["due_at"] = row["overdue"] = row["due_in"] = None
        if row["state"] not in OPEN or not row["waiting_since"]:
            continue
        since = datetime.fromisoformat(row["waiting_since"])
        row["due_at"] = business.add(since, targets.get(row["severity"] or "medium", 4))
        row["overdue"] = row["due_at"] <= now
        row["due_in"] = _span(abs(row["due_at"] - now))
        row["waiting"] = _span(now - since)


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d}"
    return f"{minutes // 1440} days"


@bp.route("/")
def queue():
    state = request.args.get("state", "open")
    severity = request.args.get("severity") or None
    category = request.args.get("category") or None
    owner = request.args.get("owner") or None
    mailbox = request.args.get("mailbox") or None
    boxes = [box.name for box in config().mailboxes]
    if state not in STATES or (severity and severity not in SEVERITIES) or (category and category not in CATEGORIES) \
            or (mailbox and mailbox not in boxes):
        abort(400)
    s = store()
    who = g.user["name"] if owner == "me" else owner
    filters = {"severity": severity, "category": category, "owner": who, "box": mailbox}
    if state == "open":
        rows = [r for st in OPEN for r in s.drafts(state=st, **filters)]
    else:
        rows = s.drafts(state=state, **filters)
    now = utcnow()
    _due(rows, now)
    rows.sort(key=lambda r: (r["survey_id"] is None, not r["overdue"],
                             SEVERITIES[::-1].index(r["severity"]) if r["severity"] in SEVERITIES else 9,
                             r["due_at"].timestamp() if r["due_at"] else 0))
    promises = s.open_commitments(who)
    for p in promises:
        p["overdue"] = datetime.fromisoformat(p["due_at"]) <= now
    signed_out = [t for t in s.tokens() if t["state"] != "ok" and t["mailbox"] in boxes]
    return render_template("queue.html", rows=rows, counts=s.draft_counts(), state=state, severity=severity,
                           signed_out=signed_out,
                           category=category, owner=owner, mailbox=mailbox, mailboxes=boxes,
                           severities=SEVERITIES, categories=CATEGORIES, states=STATES,
                           promises=promises, language_name=language_name)


def _draft_or_404(draft_id: int) -> dict:
    draft = store().draft(draft_id)
    if draft is None:
        abort(404)
    return draft


def _viewers(draft_id: int) -> list[str]:
    s, now = store(), utcnow()
    s.mark_viewing(draft_id, g.user["name"], now)
    return s.viewers(draft_id, now - timedelta(seconds=config().queue.viewing_seconds), g.user["name"])


def _page(draft_id: int, body: str | None = None, stale: StaleDraft | None = None, status: int = 200):
    s = store()
    draft = _draft_or_404(draft_id)
    message = s.message(draft["message_pk"])
    classifications = s.classifications(draft["message_pk"])
    outbox = s.outbox_for_draft(draft_id)
    stakes = json.loads(draft["stakes"]) if draft["stakes"] else None
    text = body if body is not None else draft["body"]
    hours, _, phrase = promise(config(), draft["severity"], utcnow(), draft["language"], urgent_draft(draft))
    shown_body = draft["body"].replace(DEADLINE, outbox["promise_text"]) if outbox and outbox["promise_text"] else draft["body"]
    return render_template(
        "draft.html", draft=draft, message=message, body=text, shown_body=shown_body, stale=stale,
        conversation=s.conversation_messages(draft["conversation_id"]), case=s.conversation(draft["conversation_id"]),
        classification=classifications[0] if classifications else None,
        earlier=s.earlier_cases_of(message["from_addr"], draft["conversation_id"], message["id"]) if message["from_addr"] else [],
        edits=edits_diff(draft), carried=carried_edits(s, draft), history=case_history(s, draft["conversation_id"]),
        outbox=outbox, survey=s.survey(draft["survey_id"]) if draft["survey_id"] else None,
        severities=SEVERITIES, categories=CATEGORIES, users=s.user_names(), viewers=_viewers(draft_id),
        posing_as=address_in_name(message["from_name"], message["from_addr"]), stakes=stakes,
        can_approve=not draft["hold_role"] or draft["hold_role"] in roles_of(s, g.user["name"]),
        admissions=admissions(text) if stakes and "legal" in stakes["kinds"] else [],
        deadline_token=DEADLINE, deadline_now=phrase, questions=unanswered(text), hours=hours,
        urgent=urgent_draft(draft),
        customer_language=language_name(draft["customer_language"]) if draft["customer_language"] else None,
        reply_language=language_name(draft["language"]),
        newer=s.newer_draft(draft["conversation_id"], draft_id) if draft["state"] == "superseded" else None,
        asks=asks_of(draft), ask_labels=LABELS, decisions=DECISIONS, undecided=undecided(draft),
    ), status


@bp.route("/drafts/<int:draft_id>")
def show(draft_id: int):
    return _page(draft_id)


@bp.route("/drafts/<int:draft_id>/viewers")
def viewers(draft_id: int):
    _draft_or_404(draft_id)
    return jsonify(viewers=_viewers(draft_id))


def _version() -> int | None:
    value = request.form.get("version", "")
    return int(value) if value.isdigit() else None


@bp.route("/drafts/<int:draft_id>/save", methods=["POST"])
def save(draft_id: int):
    _draft_or_404(draft_id)
    body = request.form.get("body", "")
    try:
        save_edit(store(), draft_id, body, g.user["name"], utcnow(), _version())
        flash("Your edits are saved.", "info")
    except StaleDraft as exc:
        return _page(draft_id, body=body, stale=exc, status=409)
    except AmendsError as exc:
        flash(str(exc), "error")
    return redirect(url_for("drafts.show", draft_id=draft_id))


@bp.route("/drafts/<int:draft_id>/asks", methods=["POST"])
def confirm_asks(draft_id: int):
    """The reviewer's decision on each thing the customer asked for; the reply follows it."""
    draft = _draft_or_404(draft_id)
    choices = [(request.form.get(f"decision-{i}", ""), request.form.get(f"detail-{i}", ""))
               for i in range(len(asks_of(draft)))]
    try:
        followed = decide(store(), config(), draft_id, choices, g.user["name"], utcnow(), _version(), templates())
    except StaleDraft as exc:
        return _page(draft_id, stale=exc, status=409)
    except AmendsError as exc:
        flash(str(exc), "error")
        return redirect(url_for("drafts.show", draft_id=draft_id))
    flash("Saved: the reply now says what you chose." if followed else
          "Saved. You had rewritten the answer to these asks, so the text is yours: check it says what you chose.",
          "info")
    return redirect(url_for("drafts.show", draft_id=draft_id))


@bp.route("/drafts/<int:draft_id>/approve", methods=["POST"])
def approve_draft(draft_id: int):
    draft = _draft_or_404(draft_id)
    body = request.form.get("body")
    waiting = unconfirmed(draft)
    if waiting:  # the reply says we will do these: a person decides first
        flash(f"Confirm what the customer asked for first: {waiting}.", "error")
        return _page(draft_id, body=body, status=409)
    try:
        approve(store(), config(), draft_id, g.user["name"], utcnow(), body=body, version=_version())
    except StaleDraft as exc:
        return _page(draft_id, body=body, stale=exc, status=409)
    except AmendsError as exc:
        flash(str(exc), "error")
        return redirect(url_for("drafts.show", draft_id=draft_id))
    flash(f"Draft {draft_id} approved; it will be sent once, signed by you.", "info")
    return redirect(url_for("drafts.queue"))


@bp.route("/drafts/<int:draft_id>/reject", methods=["POST"])
def reject_draft(draft_id: int):
    _draft_or_404(draft_id)
    try:
        reject(store(), draft_id, g.user["name"], request.form.get("reason", ""), utcnow())
    except AmendsError as exc:
        flash(str(exc), "error")
        return redirect(url_for("drafts.show", draft_id=draft_id))
    flash(f"Draft {draft_id} rejected.", "info")
    return redirect(url_for("drafts.queue"))


@bp.route("/drafts/<int:draft_id>/owner", methods=["POST"])
def owner(draft_id: int):
    draft = _draft_or_404(draft_id)
    action = request.form.get("action")
    me = g.user["name"]
    target = {"take": me, "unassign": None}.get(action, request.form.get("owner") or None)
    try:
        assign(store(), draft["conversation_id"], target, me, utcnow())
        flash("You own this case now." if target == me else f"Case assigned to {target}." if target else "Case unassigned.", "info")
    except AmendsError as exc:
        flash(str(exc), "error")
    return redirect(url_for("drafts.show", draft_id=draft_id))


@bp.route("/drafts/<int:draft_id>/labels", methods=["POST"])
def labels(draft_id: int):
    draft = _draft_or_404(draft_id)
    complaint = request.form.get("complaint") == "yes"
    try:
        correct_labels(store(), draft["message_pk"], g.user["name"], complaint,
                       request.form.get("severity") or None, request.form.get("category") or None, utcnow())
        flash("Thank you: the correction will teach the next model.", "info")
    except AmendsError as exc:
        flash(str(exc), "error")
    return redirect(url_for("drafts.show", draft_id=draft_id))
