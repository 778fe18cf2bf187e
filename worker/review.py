"""Drafts from draft to decision: create, redraft, edit, approve, reject, correct labels.

The web pages and the CLI both call these functions, so a rule (one open draft per
conversation, approval writes the outbox before any send, every action audited) is enforced
in one place. Approval is the only way a customer-facing message reaches the outbox.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from datetime import datetime

from jinja2.sandbox import SandboxedEnvironment

from classifiers.labels import CATEGORIES, SEVERITIES

from .config import Config
from .context import build_context
from .drafts import TemplateError, draft_variables, environment, render_draft, render_reply, render_template, tidy_text
from .errors import AmendsError, NotFound
from .mime import HeaderError, build_reply, new_message_id, reply_references, reply_subject
from .store import Store, iso

log = logging.getLogger(__name__)


class ReviewError(AmendsError):
    """An action that does not fit the draft's state (approving a sent draft, say)."""


@dataclass
class DraftCounts:
    created: int = 0
    superseded: int = 0
    failed: int = 0


def _draft_values(row: dict, body: str, error: str | None, now: datetime) -> dict:
    return {
        "conversation_id": row["conversation_id"], "message_pk": row["message_pk"],
        "state": "failed" if error else "pending",
        "to_addr": row["reply_to"] or row["from_addr"], "to_name": row["from_name"],
        "subject": reply_subject(row["subject"] or ""), "body": body, "rendered_body": body,
        "severity": row["severity"], "category": row["category"],
        "template": f"{row['category']}.txt.j2", "error": error,
        "created_at": iso(now), "updated_at": iso(now),
    }


def draft_pending(store: Store, config: Config, now: datetime, env: SandboxedEnvironment | None = None) -> DraftCounts:
    """Draft a reply for every new complaint; a newer message in a conversation redrafts."""
    env = env or environment(config.drafts.templates_dir)
    counts = DraftCounts()
    for row in store.complaints_to_draft():
        ctx = build_context(row["subject"] or "", row["new_text"] or row["text"] or "", row["from_name"], row["signature"] or "")
        error = None
        try:
            body = render_draft(env, config, ctx, row["severity"], row["category"], now)
        except TemplateError as exc:
            body, error = "", str(exc)
            log.error("draft for message %s: %s", row["message_pk"], error)
        with store.transaction():
            previous = store.open_draft(row["conversation_id"])
            values = _draft_values(row, body, error, now)
            if previous:
                values["previous_draft_id"] = previous["id"]
            draft_id = store.insert_draft(values)
            if previous:
                store.update_draft(previous["id"], state="superseded", updated_at=iso(now))
                counts.superseded += 1
        store.audit("amends", "drafted", "draft", draft_id, {"message": row["message_pk"], "error": error,
                                                             "supersedes": previous["id"] if previous else None}, now)
        counts.failed += int(bool(error))
        counts.created += 1
    return counts


def escalate(severity: str | None) -> str:
    """One step up: a customer let down twice is worse off than after the first failure."""
    level = SEVERITIES.index(severity) if severity in SEVERITIES else 1
    return SEVERITIES[min(level + 1, len(SEVERITIES) - 1)]


def reopen(store: Store, config: Config, survey_id: int, now: datetime, message_pk: int | None = None,
           env: SandboxedEnvironment | None = None) -> int:
    """A survey score of 1 or 2: the conversation goes back in front of a person, at the top.

    Call inside the transaction that records the answer. An open draft in the conversation is
    flagged and raised one severity (it already answers the customer's latest words);
    otherwise a new draft from ``reopened.txt.j2`` answers ``message_pk`` (the survey reply)
    or the customer's latest message. Returns the draft id.
    """
    survey = store.survey(survey_id)
    followed = store.survey_draft(survey_id)
    severity = escalate(survey["severity"] or followed["severity"])
    category = survey["category"] or followed["category"] or "other"
    detail = {"survey": survey_id, "score": survey["score"]}
    current = store.open_draft(survey["conversation_id"])
    if current:
        ranks = [SEVERITIES.index(s) for s in (severity, current["severity"]) if s in SEVERITIES]
        store.update_draft(current["id"], survey_id=survey_id, severity=SEVERITIES[max(ranks)], updated_at=iso(now))
        store.audit("amends", "reopened by a low survey score", "draft", current["id"], detail, now)
        return current["id"]
    message = store.message(message_pk or store.last_customer_message_pk(survey["conversation_id"]))
    ctx = build_context(message["subject"] or "", message["new_text"] or message["text"] or "", message["from_name"],
                        message["signature"] or "")
    comment = (survey["comment"] or "").strip()
    variables = draft_variables(config, ctx, severity, category, now) | {
        "survey": {"score": survey["score"], "comment": comment[:300] + ("..." if len(comment) > 300 else "")}}
    error = None
    try:
        body = tidy_text(render_template(env or environment(config.drafts.templates_dir), "reopened.txt.j2", variables))
    except TemplateError as exc:
        body, error = "", str(exc)
        log.error("reopened draft for survey %s: %s", survey_id, error)
    draft_id = store.insert_draft({
        "conversation_id": survey["conversation_id"], "message_pk": message["id"], "survey_id": survey_id,
        "state": "failed" if error else "pending", "to_addr": followed["to_addr"], "to_name": followed["to_name"],
        "subject": followed["subject"], "body": body, "rendered_body": body, "severity": severity,
        "category": category, "template": "reopened.txt.j2", "error": error,
        "created_at": iso(now), "updated_at": iso(now)})
    store.audit("amends", "reopened by a low survey score", "draft", draft_id, detail | {"error": error}, now)
    log.info("survey %s scored %s: conversation %s reopened as draft %s", survey_id, survey["score"],
             survey["conversation_id"], draft_id)
    return draft_id


def get_draft(store: Store, draft_id: int) -> dict:
    draft = store.draft(draft_id)
    if draft is None:
        raise NotFound(f"no draft with id {draft_id} (see `amends drafts list`)")
    return draft


def edits_diff(draft: dict) -> str:
    """What the reviewer changed in the drafted text, as a unified diff ('' when nothing)."""
    if draft["body"] == draft["rendered_body"]:
        return ""
    return "".join(difflib.unified_diff(
        draft["rendered_body"].splitlines(keepends=True), draft["body"].splitlines(keepends=True),
        fromfile="drafted", tofile="edited by " + (draft["edited_by"] or "reviewer")))


def carried_edits(store: Store, draft: dict) -> str:
    """The edits a reviewer made to the draft this one replaced: they should not be lost."""
    if not draft["previous_draft_id"]:
        return ""
    previous = store.draft(draft["previous_draft_id"])
    return edits_diff(previous) if previous else ""


def save_edit(store: Store, draft_id: int, body: str, by: str, now: datetime) -> None:
    draft = get_draft(store, draft_id)
    if draft["state"] not in ("pending", "failed"):
        raise ReviewError(f"draft {draft_id} is {draft['state']}; only pending drafts can be edited")
    with store.transaction():
        store.update_draft(draft_id, body=_normalise_body(body), edited_by=by, updated_at=iso(now))
    store.audit(by, "edited", "draft", draft_id, None, now)


def _normalise_body(body: str) -> str:
    return body.replace("\r\n", "\n").strip() + "\n"


def approve(store: Store, config: Config, draft_id: int, by: str, now: datetime, body: str | None = None,
            env: SandboxedEnvironment | None = None) -> int:
    """Approve a draft: the final message goes into the outbox, signed by the reviewer.

    The bytes and the Message-ID are written in the same transaction that marks the draft
    approved; the sender takes it from there. Returns the outbox id.
    """
    env = env or environment(config.drafts.templates_dir)
    draft = get_draft(store, draft_id)
    if draft["state"] not in ("pending", "failed"):
        raise ReviewError(f"draft {draft_id} is {draft['state']}; only a pending or failed draft can be approved")
    final_body = _normalise_body(body if body is not None else draft["body"])
    if not final_body.strip():
        raise ReviewError("the reply is empty")
    message = store.message(draft["message_pk"])
    rendered = render_reply(env, config, final_body, by, draft["subject"])
    message_id = new_message_id(config.smtp.message_id_domain)
    try:
        reply = build_reply(
            to_name=draft["to_name"] or "", to_addr=draft["to_addr"], from_name=config.smtp.from_name,
            from_addr=config.smtp.from_address, subject=draft["subject"], in_reply_to=message["message_id"],
            references=reply_references(message.get("refs") or [], message["message_id"]),
            text=rendered.text, html=rendered.html, message_id=message_id, date=now,
        )
    except HeaderError as exc:
        raise ReviewError(f"cannot address this reply: {exc}") from None
    with store.transaction():
        current = store.draft(draft_id)
        if current["state"] != draft["state"]:  # someone else decided in the meantime
            raise ReviewError(f"draft {draft_id} was {current['state']} by {current['decided_by']} meanwhile")
        edited = final_body != draft["rendered_body"]
        store.update_draft(draft_id, state="approved", body=final_body, decided_by=by, decided_at=iso(now), error=None,
                           updated_at=iso(now), **({"edited_by": by} if final_body != draft["body"] else {}))
        outbox_id = store.enqueue(kind="reply", draft_id=draft_id, conversation_id=draft["conversation_id"],
                                  message_id=reply.message_id, to_addr=draft["to_addr"], raw=reply.raw, now=now)
        # Our reply joins the conversation, so the customer's answer threads back to it.
        store.record_outbound(message_id=reply.message_id, from_addr=config.smtp.from_address,
                              from_name=config.smtp.from_name, to_addr=draft["to_addr"], subject=draft["subject"],
                              text=rendered.text, conversation_id=draft["conversation_id"], now=now)
    store.audit(by, "approved", "draft", draft_id, {"outbox": outbox_id, "edited": edited, "message_id": reply.message_id}, now)
    log.info("draft %s approved by %s", draft_id, by)
    return outbox_id


def reject(store: Store, draft_id: int, by: str, reason: str, now: datetime) -> None:
    if not reason.strip():
        raise ReviewError("say why the draft is rejected: the reason teaches the next draft")
    with store.transaction():
        draft = get_draft(store, draft_id)
        if draft["state"] not in ("pending", "failed"):
            raise ReviewError(f"draft {draft_id} is {draft['state']}; only an open draft can be rejected")
        store.update_draft(draft_id, state="rejected", reject_reason=reason.strip(), decided_by=by,
                           decided_at=iso(now), updated_at=iso(now))
    store.audit(by, "rejected", "draft", draft_id, {"reason": reason.strip()}, now)


def correct_labels(store: Store, message_pk: int, by: str, complaint: bool, severity: str | None,
                   category: str | None, now: datetime) -> int:
    """A reviewer's verdict on the classification: kept as training data for retraining."""
    if complaint and (severity not in SEVERITIES or category not in CATEGORIES):
        raise ReviewError("a complaint needs a severity and a category (see classifiers/RUBRIC.md)")
    if not complaint:
        severity = category = None
    correction = store.add_correction(message_pk, by, complaint, severity, category, now)
    store.audit(by, "corrected labels", "message", message_pk,
                {"complaint": complaint, "severity": severity, "category": category}, now)
    return correction
