"""The queue and the draft page: where the team spends its day."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from classifiers.labels import CATEGORIES, SEVERITIES

from ..errors import AmendsError
from ..parse import address_in_name
from ..review import approve, carried_edits, correct_labels, edits_diff, reject, save_edit
from ..store import utcnow
from . import config, store

bp = Blueprint("drafts", __name__)
STATES = ("open", "pending", "failed", "approved", "sent", "rejected", "superseded")


@bp.route("/")
def queue():
    state = request.args.get("state", "open")
    severity = request.args.get("severity") or None
    category = request.args.get("category") or None
    if state not in STATES or (severity and severity not in SEVERITIES) or (category and category not in CATEGORIES):
        abort(400)
    s = store()
    if state == "open":
        rows = s.drafts(state="pending", severity=severity, category=category) + \
            s.drafts(state="failed", severity=severity, category=category)
    else:
        rows = s.drafts(state=state, severity=severity, category=category)
    return render_template("queue.html", rows=rows, counts=s.draft_counts(), state=state, severity=severity,
                           category=category, severities=SEVERITIES, categories=CATEGORIES, states=STATES)


def _draft_or_404(draft_id: int) -> dict:
    draft = store().draft(draft_id)
    if draft is None:
        abort(404)
    return draft


@bp.route("/drafts/<int:draft_id>")
def show(draft_id: int):
    s = store()
    draft = _draft_or_404(draft_id)
    message = s.message(draft["message_pk"])
    classifications = s.classifications(draft["message_pk"])
    return render_template(
        "draft.html", draft=draft, message=message, conversation=s.conversation_messages(draft["conversation_id"]),
        classification=classifications[0] if classifications else None,
        earlier=s.earlier_complaints_of(message["from_addr"], message["id"]) if message["from_addr"] else [],
        edits=edits_diff(draft), carried=carried_edits(s, draft), trail=s.audit_trail("draft", draft_id),
        outbox=s.outbox_for_draft(draft_id), survey=s.survey(draft["survey_id"]) if draft["survey_id"] else None,
        severities=SEVERITIES, categories=CATEGORIES,
        posing_as=address_in_name(message["from_name"], message["from_addr"]),
    )


def _act(draft_id: int, action, success: str):
    try:
        action()
        flash(success, "info")
    except AmendsError as exc:
        flash(str(exc), "error")
        return redirect(url_for("drafts.show", draft_id=draft_id))
    return redirect(url_for("drafts.queue"))


@bp.route("/drafts/<int:draft_id>/save", methods=["POST"])
def save(draft_id: int):
    _draft_or_404(draft_id)
    try:
        save_edit(store(), draft_id, request.form.get("body", ""), g.user["name"], utcnow())
        flash("Your edits are saved.", "info")
    except AmendsError as exc:
        flash(str(exc), "error")
    return redirect(url_for("drafts.show", draft_id=draft_id))


@bp.route("/drafts/<int:draft_id>/approve", methods=["POST"])
def approve_draft(draft_id: int):
    _draft_or_404(draft_id)
    return _act(draft_id, lambda: approve(store(), config(), draft_id, g.user["name"], utcnow(),
                                          body=request.form.get("body")),
                f"Draft {draft_id} approved; it will be sent once, signed by you.")


@bp.route("/drafts/<int:draft_id>/reject", methods=["POST"])
def reject_draft(draft_id: int):
    _draft_or_404(draft_id)
    return _act(draft_id, lambda: reject(store(), draft_id, g.user["name"], request.form.get("reason", ""), utcnow()),
                f"Draft {draft_id} rejected.")


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
