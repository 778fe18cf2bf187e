"""Scheduled work that survives restarts: follow-ups, surveys, leadership and team alerts.

Time is an argument (``run_due(now)``); what is due is always read from SQLite. Scheduling is
idempotent (one job per kind and message), so a pass can run any number of times, and a job
becomes "done" in the same transaction that puts its email in the outbox, so a crash never
sends one twice or loses one. Customer-facing mail is held to business hours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .config import DAYS, Config, FollowupConfig
from .context import build_context
from .drafts import environment, render_reply, render_template, tidy_text
from .mime import build_reply, new_message_id, reply_references, reply_subject
from .store import Store, iso
from .surveys import LABELS, SCORES, make_token, parse_score

log = logging.getLogger(__name__)
CUSTOMER_FACING = ("follow_up", "survey")


@dataclass
class JobCounts:
    scheduled: int = 0
    cancelled: int = 0
    done: int = 0
    moved: int = 0


def next_opening(moment: datetime, followup: FollowupConfig, timezone: str) -> datetime:
    """``moment`` if it falls in business hours, else the next opening (UTC)."""
    local = moment.astimezone(ZoneInfo(timezone))
    for _ in range(8):
        if DAYS[local.weekday()] in followup.business_days:
            opening = local.replace(hour=followup.opening.hour, minute=followup.opening.minute, second=0, microsecond=0)
            closing = local.replace(hour=followup.closing.hour, minute=followup.closing.minute, second=0, microsecond=0)
            if local < opening:
                return opening.astimezone(moment.tzinfo)
            if local < closing:
                return moment
        local = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return moment


def schedule(store: Store, config: Config, now: datetime) -> JobCounts:
    """Follow-up and survey after each sent reply; an alert for each high or critical complaint."""
    counts = JobCounts()
    follow = config.followup
    with store.transaction():
        for row in store.sent_replies_without_followups():
            sent = datetime.fromisoformat(row["sent_at"])
            days = follow.follow_up_days.get(row["severity"] or "medium", 3)
            follow_at = next_opening(sent + timedelta(days=days), follow, config.drafts.timezone)
            survey_at = next_opening(follow_at + timedelta(days=follow.survey_after_days), follow, config.drafts.timezone)
            for kind, due in (("follow_up", follow_at), ("survey", survey_at)):
                if store.add_job(kind, row["conversation_id"], row["draft_id"], row["outbound_pk"], due, now):
                    counts.scheduled += 1
        if follow.leadership:
            for row in store.complaints_to_alert(follow.alert_severities):
                if store.add_job("leadership_alert", row["conversation_id"], None, row["message_pk"], now, now):
                    counts.scheduled += 1
    counts.cancelled = store.cancel_superseded_jobs(now)
    return counts


def record_survey_replies(store: Store, now: datetime, message_ids: list[int]) -> int:
    """A reply such as "4/5" to an open survey counts as its answer (the fallback to links)."""
    answered = 0
    for row in store.survey_replies(message_ids):
        score = parse_score(row["new_text"] or "")
        if score and store.answer_survey(row["survey_id"], score, row["new_text"], "reply", now):
            answered += 1
            after_answer(store, row["survey_id"], now)
    return answered


def after_answer(store: Store, survey_id: int, now: datetime) -> None:
    """A score of 1 or 2 is a second failure: the team hears about it at once."""
    survey = store.survey(survey_id)
    if survey["score"] is not None and survey["score"] <= 2:
        with store.transaction():
            store.add_job("low_score_alert", survey["conversation_id"], None, None, now, now, survey_id=survey_id)


class JobRunner:
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.env = environment(config.drafts.templates_dir)
        self.handlers = {
            "follow_up": self._follow_up,
            "survey": self._survey,
            "leadership_alert": self._leadership_alert,
            "low_score_alert": self._low_score_alert,
        }

    def run_due(self, now: datetime) -> JobCounts:
        counts = JobCounts()
        for job in self.store.due_jobs(now):
            if job["kind"] in CUSTOMER_FACING:
                opening = next_opening(now, self.config.followup, self.config.drafts.timezone)
                if opening > now:
                    with self.store.transaction():
                        self.store.update_job(job["id"], due_at=iso(opening))
                    counts.moved += 1
                    continue
            try:
                with self.store.transaction():
                    self.handlers[job["kind"]](job, now)
                    self.store.update_job(job["id"], state="done", done_at=iso(now), attempts=job["attempts"] + 1)
                counts.done += 1
            except Exception as exc:  # one broken job must not stop the others
                log.exception("job %s (%s) failed", job["id"], job["kind"])
                with self.store.transaction():
                    self.store.update_job(job["id"], state="failed", last_error=f"{type(exc).__name__}: {exc}",
                                          attempts=job["attempts"] + 1)
        return counts

    # -- what each kind of job does (inside the job's transaction) ------------------------------

    def _reply_context(self, job: dict) -> tuple[dict, dict, dict]:
        draft = self.store.draft(job["draft_id"])
        customer = self.store.message(draft["message_pk"])
        ours = self.store.message(job["message_pk"])
        return draft, customer, ours

    def _customer_mail(self, job: dict, template: str, variables: dict, now: datetime) -> None:
        draft, customer, ours = self._reply_context(job)
        ctx = build_context(customer["subject"] or "", customer["new_text"] or "", customer["from_name"], customer["signature"] or "")
        body = tidy_text(render_template(self.env, template, {"customer": {"greeting_name": ctx.greeting_name},
                                                       "subject": reply_subject(customer["subject"] or "")[4:], **variables}))
        signer = draft["decided_by"] or self.config.drafts.team_name
        rendered = render_reply(self.env, self.config, body, signer, draft["subject"])
        message_id = new_message_id(self.config.smtp.message_id_domain)
        reply = build_reply(
            to_name=draft["to_name"] or "", to_addr=draft["to_addr"], from_name=self.config.smtp.from_name,
            from_addr=self.config.smtp.from_address, subject=draft["subject"], in_reply_to=ours["message_id"],
            references=reply_references((customer.get("refs") or []) + [customer["message_id"]], ours["message_id"]),
            text=rendered.text, html=rendered.html, message_id=message_id, date=now)
        self.store.enqueue(kind=job["kind"], draft_id=None, conversation_id=job["conversation_id"],
                           message_id=message_id, to_addr=draft["to_addr"], raw=reply.raw, now=now)
        self.store.record_outbound(message_id=message_id, from_addr=self.config.smtp.from_address,
                                   from_name=self.config.smtp.from_name, to_addr=draft["to_addr"],
                                   subject=draft["subject"], text=rendered.text,
                                   conversation_id=job["conversation_id"], now=now)

    def _follow_up(self, job: dict, now: datetime) -> None:
        self._customer_mail(job, "follow_up.txt.j2", {}, now)

    def _survey(self, job: dict, now: datetime) -> None:
        draft = self.store.draft(job["draft_id"])
        survey_id = self.store.add_survey(job["conversation_id"], job["id"], draft["severity"], draft["category"], now)
        secret = self.config.secret_key()
        base = self.config.web.base_url.rstrip("/")
        links = [{"label": f"{score} - {LABELS[score]}", "url": f"{base}/survey/{make_token(secret, survey_id, score)}"}
                 for score in reversed(SCORES)]
        self._customer_mail(job, "survey.txt.j2", {"links": links}, now)

    def _internal(self, job: dict, template: str, subject: str, variables: dict, now: datetime) -> None:
        text = tidy_text(render_template(self.env, template, variables))
        from .mime import html_paragraphs

        html = render_template(self.env, "reply.html", {"paragraphs": html_paragraphs(text), "subject": subject})
        for address in self.config.followup.leadership or (self.config.smtp.from_address,):
            message_id = new_message_id(self.config.smtp.message_id_domain)
            reply = build_reply(to_name="", to_addr=address, from_name="Amends", from_addr=self.config.smtp.from_address,
                                subject=subject, in_reply_to=None, references=[], text=text, html=html,
                                message_id=message_id, date=now)
            self.store.enqueue(kind=job["kind"], draft_id=None, conversation_id=job["conversation_id"],
                               message_id=message_id, to_addr=address, raw=reply.raw, now=now)

    def _leadership_alert(self, job: dict, now: datetime) -> None:
        msg = self.store.message(job["message_pk"])
        (classification, *_) = self.store.classifications(job["message_pk"])
        earlier = self.store.earlier_complaints_of(msg["from_addr"] or "", msg["id"])
        drafts = [d for d in self.store.drafts() if d["message_pk"] == msg["id"]]
        base = self.config.web.base_url.rstrip("/")
        link = f"{base}/drafts/{drafts[0]['id']}" if drafts else f"{base}/"
        self._internal(job, "alert.txt.j2",
                       f"[{classification['severity'].upper()}] complaint: {msg['subject'] or '(no subject)'}",
                       {"severity": classification["severity"], "category": classification["category"],
                        "customer": f"{msg['from_name'] or ''} <{msg['from_addr']}>".strip(), "repeat": bool(earlier),
                        "subject": msg["subject"], "excerpt": (msg["new_text"] or "")[:800],
                        "reasons": classification["reasons"], "link": link}, now)

    def _low_score_alert(self, job: dict, now: datetime) -> None:
        survey = self.store.survey(job["survey_id"])
        first = self.store.conversation_messages(job["conversation_id"])[0]
        self._internal(job, "low_score.txt.j2", f"Low satisfaction score ({survey['score']}/5): {first['subject']}",
                       {"customer": first["from_addr"], "score": survey["score"], "label": LABELS[survey["score"]],
                        "comment": survey["comment"], "subject": first["subject"],
                        "link": f"{self.config.web.base_url.rstrip('/')}/"}, now)
