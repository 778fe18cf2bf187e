"""Cases from draft to decision: draft, redraft, edit, own, approve, reject, correct labels.

The web pages and the CLI both call these functions, so a rule (one open draft per
conversation, a stale edit never overwrites another's, a held draft waits for its role,
approval writes the outbox before any send, every action audited) is enforced in one place.
Approval is the only way a customer-facing message reaches the outbox.
"""

from __future__ import annotations

import difflib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from classifiers.labels import CATEGORIES, SEVERITIES

from ..config import Config
from ..errors import AmendsError, NotFound
from ..mail.mime import HeaderError, build_reply, new_message_id, reply_references, reply_subject
from ..store import Store, iso
from .context import build_context
from .drafts import (DEADLINE, Composed, Templates, TemplateError, compose, fill_deadline, render_reply, unanswered,
                     urgent_draft)
from .hours import BusinessHours
from .language import detect
from .stakes import assess
from .users import signs_as

log = logging.getLogger(__name__)


class ReviewError(AmendsError):
    """An action that does not fit the draft's state (approving a sent draft, say)."""


class StaleDraft(ReviewError):
    """Someone else saved the draft after this person opened it: their change is shown, not lost."""

    def __init__(self, draft: dict, theirs: str) -> None:
        self.draft = draft
        self.theirs = theirs
        super().__init__(f"{draft['edited_by'] or 'someone'} changed draft {draft['id']} while you were editing it "
                         f"(now version {draft['version']}). Their change is shown; your text is kept: "
                         "check it against theirs, then save or approve again.")


@dataclass
class DraftCounts:
    created: int = 0
    superseded: int = 0
    failed: int = 0


def _case_context(store: Store, row: dict):
    earlier = store.customer_texts(row["conversation_id"], row["message_pk"])
    latest = row["new_text"] or row["text"] or ""
    ctx = build_context(row["subject"] or "", latest, row["from_name"], row["signature"] or "", earlier)
    stakes = assess("\n".join([row["subject"] or "", latest, *earlier]))
    return ctx, stakes, detect(f"{row['subject'] or ''}\n{latest}"), len(earlier)


NO_ASKS_TEMPLATES = ("", "legal.txt.j2", "press.txt.j2", "reopened.txt.j2", "praise.txt.j2")  # no asks answered


def _labels(store: Store, row: dict, previous: dict | None) -> tuple[str, str, str]:
    """(kind, severity, category). A chaser keeps the case at least as urgent as it was; a
    message that is not a complaint redrafts an open complaint draft (answering it too) or
    puts the case back in the queue as "customer replied"."""
    if row["complaint"]:
        severity = row["severity"]
        if previous and previous["kind"] == "complaint" and previous["severity"] in SEVERITIES:
            severity = SEVERITIES[max(SEVERITIES.index(severity), SEVERITIES.index(previous["severity"]))]
        return "complaint", severity, row["category"]
    if previous and previous["kind"] == "complaint":
        return "complaint", previous["severity"], previous["category"]
    if row.get("praise"):  # thanks or praise: a thank-you, never an apology
        return "praise", "low", "other"
    case = store.case_labels(row["conversation_id"]) or {}
    return "replied", case.get("severity") or "low", case.get("category") or "other"


def draft_pending(store: Store, config: Config, now: datetime, templates: Templates | None = None) -> DraftCounts:
    """A draft for every customer message that needs a person; a newer one in a case redrafts."""
    templates = templates or Templates.load(config.drafts.templates_dir)
    counts = DraftCounts()
    drafted_cases: set[int] = set()
    skipped: list[int] = []
    for row in store.messages_to_draft():
        needs = row["needs"] or (row["conversation_id"] in drafted_cases and store.needs_person(row["message_pk"]))
        if not needs:
            skipped.append(row["message_pk"])
            continue
        drafted_cases.add(row["conversation_id"])
        ctx, stakes, customer_language, turn = _case_context(store, row)
        previous = store.open_draft(row["conversation_id"])
        kind, severity, category = _labels(store, row, previous)
        error = None
        try:
            composed = compose(templates, config, ctx, severity, category, stakes, customer_language, kind,
                               variant=row["conversation_id"] + turn)
        except TemplateError as exc:
            composed, error = Composed("", "", "en", stakes, None), str(exc)
            log.error("draft for message %s: %s", row["message_pk"], error)
        values = {
            "conversation_id": row["conversation_id"], "message_pk": row["message_pk"], "kind": kind,
            "state": "failed" if error else "pending", "to_addr": row["reply_to"] or row["from_addr"],
            "to_name": row["from_name"], "subject": reply_subject(row["subject"] or ""), "body": composed.body,
            "rendered_body": composed.body, "severity": severity, "category": category, "template": composed.template,
            "language": composed.language, "customer_language": customer_language,
            "stakes": json.dumps(stakes.to_json()) if stakes.hits else None, "hold_role": composed.hold_role,
            "error": error, "created_at": iso(now), "updated_at": iso(now),
            "asks": json.dumps(ctx.asks.to_json()) if ctx.asks.asks and composed.template not in NO_ASKS_TEMPLATES else None,
        }
        values["message_id"] = new_message_id(box_config(store, config, row["conversation_id"]).smtp.message_id_domain)
        with store.transaction():
            if store.draft_for_message(row["message_pk"]) is not None:
                continue  # another worker sharing the database drafted it meanwhile
            previous = store.open_draft(row["conversation_id"])
            if previous:
                values["previous_draft_id"] = previous["id"]
            draft_id = store.insert_draft(values)
            store.add_draft_version(draft_id, 1, composed.body, "amends", now)
            store.mark_routed([row["message_pk"]], now)
            if previous:
                store.update_draft(previous["id"], state="superseded", updated_at=iso(now))
                counts.superseded += 1
        store.audit("amends", {"complaint": "drafted", "praise": "drafted a thank-you"}.get(
            kind, "customer replied: back in the queue"), "draft",
                    draft_id, {"message": row["message_pk"], "error": error, "template": composed.template,
                               "language": composed.language, "stakes": [h.describe() for h in stakes.hits],
                               "held for": composed.hold_role, "supersedes": previous["id"] if previous else None}, now)
        counts.failed += int(bool(error))
        counts.created += 1
    with store.transaction():
        store.mark_routed(skipped, now)
    return counts


def escalate(severity: str | None) -> str:
    """One step up: a customer let down twice is worse off than after the first failure."""
    level = SEVERITIES.index(severity) if severity in SEVERITIES else 1
    return SEVERITIES[min(level + 1, len(SEVERITIES) - 1)]


def reopen(store: Store, config: Config, survey_id: int, now: datetime, message_pk: int | None = None,
           templates: Templates | None = None) -> int:
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
    row = dict(message, message_pk=message["id"])
    ctx, stakes, customer_language, turn = _case_context(store, row)
    comment = (survey["comment"] or "").strip()
    extra = {"survey": {"score": survey["score"], "comment": comment[:300] + ("..." if len(comment) > 300 else "")}}
    error = None
    try:
        composed = compose(templates or Templates.load(config.drafts.templates_dir), config, ctx, severity, category,
                           stakes, customer_language or followed["language"], "reopened", extra,
                           variant=survey["conversation_id"] + turn + 1)
    except TemplateError as exc:
        composed, error = Composed("", "reopened.txt.j2", "en", stakes, None), str(exc)
        log.error("reopened draft for survey %s: %s", survey_id, error)
    draft_id = store.insert_draft({
        "conversation_id": survey["conversation_id"], "message_pk": message["id"], "survey_id": survey_id,
        "kind": "reopened", "state": "failed" if error else "pending", "to_addr": followed["to_addr"],
        "to_name": followed["to_name"], "subject": followed["subject"], "body": composed.body,
        "rendered_body": composed.body, "severity": severity, "category": category, "template": composed.template,
        "language": composed.language, "customer_language": customer_language, "hold_role": composed.hold_role,
        "stakes": json.dumps(stakes.to_json()) if stakes.hits else None, "error": error,
        "message_id": new_message_id(box_config(store, config, survey["conversation_id"]).smtp.message_id_domain),
        "created_at": iso(now), "updated_at": iso(now)})
    store.add_draft_version(draft_id, 1, composed.body, "amends", now)
    store.audit("amends", "reopened by a low survey score", "draft", draft_id, detail | {"error": error}, now)
    log.info("survey %s scored %s: conversation %s reopened as draft %s", survey_id, survey["score"],
             survey["conversation_id"], draft_id)
    return draft_id


def get_draft(store: Store, draft_id: int) -> dict:
    draft = store.draft(draft_id)
    if draft is None:
        raise NotFound(f"no draft with id {draft_id} (see `amends drafts list`)")
    return draft


def diff(before: str, after: str, before_name: str, after_name: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=before_name, tofile=after_name))


def edits_diff(draft: dict) -> str:
    """What reviewers changed in the drafted text, as a unified diff ('' when nothing)."""
    if draft["body"] == draft["rendered_body"]:
        return ""
    return diff(draft["rendered_body"], draft["body"], "drafted", "edited by " + (draft["edited_by"] or "reviewer"))


def carried_edits(store: Store, draft: dict) -> str:
    """The edits a reviewer made to the draft this one replaced: they should not be lost."""
    if not draft["previous_draft_id"]:
        return ""
    previous = store.draft(draft["previous_draft_id"])
    return edits_diff(previous) if previous else ""


def check_version(store: Store, draft: dict, version: int | None) -> None:
    """Refuse a save or approval made from an older version than the one stored."""
    if version is None or version == draft["version"]:
        return
    base = store.draft_version(draft["id"], version)
    theirs = diff(base["body"] if base else draft["rendered_body"], draft["body"],
                  f"version {version} (what you opened)", f"version {draft['version']} by {draft['edited_by']}")
    raise StaleDraft(draft, theirs)


def save_edit(store: Store, draft_id: int, body: str, by: str, now: datetime, version: int | None = None) -> int:
    """Save a reviewer's text; ``version`` is the one they opened. Returns the new version."""
    body = _normalise_body(body)
    with store.transaction():
        draft = get_draft(store, draft_id)
        if draft["state"] not in ("pending", "failed"):
            raise ReviewError(f"draft {draft_id} is {draft['state']}; only pending drafts can be edited")
        check_version(store, draft, version)
        new_version = draft["version"] + 1
        store.update_draft(draft_id, body=body, edited_by=by, updated_at=iso(now), version=new_version)
        store.add_draft_version(draft_id, new_version, body, by, now)
    store.audit(by, "edited", "draft", draft_id, {"version": new_version}, now)
    return new_version


def _normalise_body(body: str) -> str:
    return body.replace("\r\n", "\n").strip() + "\n"


def roles_of(store: Store, name: str) -> set[str]:
    user = store.user(name)
    return {r for r in (user["roles"] if user else "").split(",") if r}


def promise(config: Config, severity: str | None, now: datetime, language: str,
            urgent: bool = False) -> tuple[float, datetime, str]:
    """(hours, due time, phrase) for the answer promised in a reply approved now: business
    hours, or clock hours for an urgent case (``drafts.urgent``), which the on-call person takes."""
    business = BusinessHours.of(config)
    if urgent:
        hours = config.drafts.on_call_hours
        due = now + timedelta(hours=hours)
    else:
        hours = config.drafts.answer_within_hours.get(severity or "medium", 8)
        due = business.promise(now, hours)
    return hours, due, business.phrase(due, now, language)


def box_config(store: Store, config: Config, conversation_id: int | None) -> Config:
    """The config as seen from the mailbox a case belongs to: replies go out from there."""
    case = store.conversation(conversation_id) if conversation_id else None
    return config.for_mailbox(case["mailbox"] if case else None)


def _build(store: Store, config: Config, templates: Templates, draft: dict, text: str, signer: str, now: datetime,
           message_id: str):
    """``config`` is the case's mailbox's (``box_config``)."""
    message = store.message(draft["message_pk"])
    rendered = render_reply(templates.env(draft["language"]), config, text, signs_as(store, signer), draft["subject"])
    try:
        reply = build_reply(
            to_name=draft["to_name"] or "", to_addr=draft["to_addr"], from_name=config.smtp.from_name,
            from_addr=config.smtp.from_address, subject=draft["subject"], in_reply_to=message["message_id"],
            references=reply_references(message.get("refs") or [], message["message_id"]),
            text=rendered.text, html=rendered.html, message_id=message_id, date=now,
        )
    except HeaderError as exc:
        raise ReviewError(f"cannot address this reply: {exc}") from None
    return rendered, reply


def approve(store: Store, config: Config, draft_id: int, by: str, now: datetime, body: str | None = None,
            version: int | None = None, templates: Templates | None = None) -> int:
    """Approve a draft: the final message goes into the outbox, signed by the reviewer.

    The promised time (``{deadline}``) is worked out now, in business hours, and becomes a
    tracked commitment of the case's owner. The bytes, the Message-ID and the commitment are
    written in the same transaction that marks the draft approved; the sender takes it from
    there. Returns the outbox id.
    """
    templates = templates or Templates.load(config.drafts.templates_dir)
    draft = get_draft(store, draft_id)
    case = store.conversation(draft["conversation_id"]) or {}
    config = config.for_mailbox(case.get("mailbox"))  # the reply goes out from the case's mailbox
    if draft["state"] not in ("pending", "failed"):
        why = f" ({draft['reject_reason']})" if draft["state"] == "superseded" and draft.get("reject_reason") else ""
        raise ReviewError(f"draft {draft_id} is {draft['state']}{why}; only a pending or failed draft can be approved")
    if draft["hold_role"] and draft["hold_role"] not in roles_of(store, by):
        raise ReviewError(f"this draft is held for the {draft['hold_role']!r} role ({_held_why(draft)}); "
                          f"ask someone with that role to approve it")
    check_version(store, draft, version)
    final_body = _normalise_body(body if body is not None else draft["body"])
    if not final_body.strip():
        raise ReviewError("the reply is empty")
    questions = unanswered(final_body)
    if questions:
        raise ReviewError(f"answer the customer's question first: replace {{answer: {questions[0]}}} with your answer")
    hours, due, phrase = promise(config, draft["severity"], now, draft["language"], urgent_draft(draft))
    promised = DEADLINE in final_body
    # The Message-ID the draft was given when it was made, so that the Sent folder can tell
    # whether this reply went out already (a database that lost its last writes); a second
    # approval after a failure is a new message.
    first = draft["message_id"] and store.outbox_for_draft(draft_id) is None
    message_id = draft["message_id"] if first else new_message_id(config.smtp.message_id_domain)
    rendered, reply = _build(store, config, templates, draft, fill_deadline(final_body, phrase), by, now, message_id)
    with store.transaction():
        current = store.draft(draft_id)
        if current["state"] != draft["state"]:  # someone else decided in the meantime
            raise ReviewError(f"draft {draft_id} was {current['state']} by {current['decided_by']} meanwhile")
        check_version(store, current, version if version is not None else draft["version"])
        edited = final_body != draft["rendered_body"]
        store.update_draft(draft_id, state="approved", body=final_body, decided_by=by, decided_at=iso(now), error=None,
                           updated_at=iso(now), **({"edited_by": by} if final_body != draft["body"] else {}))
        outbox_id = store.enqueue(kind="reply", draft_id=draft_id, conversation_id=draft["conversation_id"],
                                  message_id=reply.message_id, to_addr=draft["to_addr"], raw=reply.raw, now=now,
                                  promise_hours=hours if promised else None, promise_text=phrase if promised else None,
                                  box=config.mailbox_name)
        # Our reply joins the conversation, so the customer's answer threads back to it.
        outbound = store.record_outbound(message_id=reply.message_id, from_addr=config.smtp.from_address,
                                         from_name=config.smtp.from_name, to_addr=draft["to_addr"],
                                         subject=draft["subject"], text=rendered.text,
                                         conversation_id=draft["conversation_id"], now=now)
        store.keep_commitments(draft["conversation_id"], draft_id, now)
        if promised:
            owner = case.get("owner") or by
            store.add_commitment(draft["conversation_id"], draft_id, owner, phrase, due, now)
            warn = max(now, due - timedelta(minutes=config.drafts.warn_before_minutes))
            store.add_job("promise_warning", draft["conversation_id"], draft_id, outbound, warn, now)
    store.audit(by, "approved", "draft", draft_id, {"outbox": outbox_id, "edited": edited, "message_id": reply.message_id,
                                                    "promised": phrase if promised else None}, now)
    log.info("draft %s approved by %s", draft_id, by)
    return outbox_id


def refresh_promise(store: Store, config: Config, outbox: dict, now: datetime,
                    templates: Templates | None = None) -> dict:
    """Before a reply that promises a time leaves later than it was approved (retries, a
    stopped worker), work the time out again so it is never in the past; same Message-ID."""
    if outbox["kind"] != "reply" or not outbox["promise_hours"] or outbox["state"] != "queued":
        return outbox
    draft = store.draft(outbox["draft_id"])
    config = box_config(store, config, draft["conversation_id"])
    _, due, phrase = promise(config, draft["severity"], now, draft["language"], urgent_draft(draft))
    if phrase == outbox["promise_text"] and due > now:
        return outbox
    templates = templates or Templates.load(config.drafts.templates_dir)
    _, reply = _build(store, config, templates, draft, fill_deadline(draft["body"], phrase), draft["decided_by"], now,
                      outbox["message_id"])
    with store.transaction():
        store.update_outbox(outbox["id"], now, raw=reply.raw, promise_text=phrase)
        commitment = store.commitment_for_draft(draft["id"])
        if commitment:
            store.update_commitment(commitment["id"], promise=phrase, due_at=iso(due))
    store.audit("amends", "promise worked out again at send", "draft", draft["id"],
                {"was": outbox["promise_text"], "now": phrase}, now)
    return store.outbox_row(outbox["id"])


def _held_why(draft: dict) -> str:
    stakes = json.loads(draft["stakes"]) if draft.get("stakes") else {}
    return "; ".join(stakes.get("rules", [])) or "high stakes"


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


def assign(store: Store, conversation_id: int, owner: str | None, by: str, now: datetime) -> None:
    """Take (owner = by), assign to someone, or unassign (None) a case."""
    if owner is not None and store.user(owner) is None:
        raise ReviewError(f"there is no user called {owner!r}")
    with store.transaction():
        if store.conversation(conversation_id) is None:
            raise NotFound(f"no case with id {conversation_id}")
        store.set_owner(conversation_id, owner)
    action = "unassigned" if owner is None else ("took the case" if owner == by else f"assigned to {owner}")
    store.audit(by, action, "conversation", conversation_id, {"owner": owner}, now)


def case_history(store: Store, conversation_id: int) -> list[dict]:
    """What happened in a case, oldest first: drafts and decisions, what was sent (when, with
    which Message-ID), follow-ups and surveys scheduled, sent or cancelled (and why), promises."""
    events = store.case_events(conversation_id)
    out = [{"at": a["at"], "who": a["actor"], "what": f"{a['action']} (draft {a['object_id']})"
            if a["action"] in ("drafted", "edited", "approved", "rejected") else a["action"]} for a in events["audit"]]
    for o in events["outbox"]:
        label = {"reply": "reply"}.get(o["kind"], o["kind"].replace("_", " "))
        if o["sent_at"]:
            out.append({"at": o["sent_at"], "who": "amends", "what": f"sent {label} to {o['to_addr']}, "
                        f"Message-ID <{o['message_id']}>" + (f", promising {o['promise_text']}" if o["promise_text"] else "")})
        elif o["state"] == "failed":
            out.append({"at": o["created_at"], "who": "amends", "what": f"{label} failed: {o['last_error']}"})
    for j in events["jobs"]:
        label = j["kind"].replace("_", " ")
        out.append({"at": j["created_at"], "who": "amends", "what": f"{label} scheduled for {j['due_at'][:16].replace('T', ' ')}"})
        if j["state"] in ("done", "cancelled", "failed") and j["done_at"]:
            verb = {"done": "sent" if j["kind"] in ("follow_up", "survey") else "done"}.get(j["state"], j["state"])
            out.append({"at": j["done_at"], "who": "amends", "what": f"{label} {verb}" + (f": {j['reason']}" if j["reason"] else "")})
    for c in events["commitments"]:
        if c["closed_at"]:
            out.append({"at": c["closed_at"], "who": c["owner"], "what": f"promise '{c['promise']}' {c['state']}"
                        + (f" ({c['closed_reason']})" if c["closed_reason"] else "")})
    return sorted(out, key=lambda e: e["at"] or "")


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

