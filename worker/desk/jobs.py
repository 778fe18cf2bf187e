"""Scheduled work that survives restarts: follow-ups, surveys, leadership and team alerts.

Time is an argument (``run_due(now)``); what is due is always read from SQLite. Scheduling is
idempotent (one job per kind and message), so a pass can run any number of times, and a job
becomes "done" in the same transaction that puts its email in the outbox, so a crash never
sends one twice or loses one. Customer-facing mail is held to business hours.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from classifiers.labels import SEVERITIES

from ..config import Config
from ..mail.mime import build_reply, html_paragraphs, new_message_id, reply_references, reply_subject
from ..store import Store, iso
from ..store.claims import Claim, LostClaim, claimed, renew
from .context import build_context
from .drafts import Templates, render_reply, render_template, tidy_text
from .hours import BusinessHours
from .retention import apply_retention
from .review import box_config, reopen
from .surveys import LABELS, SCORES, make_token, parse_score, survey_words
from .users import signs_as

log = logging.getLogger(__name__)
CUSTOMER_JOBS = ("follow_up", "survey")  # held to business hours
JOB_LEASE = timedelta(minutes=5)  # a job is a few queries and a render: far less than this


@dataclass
class JobCounts:
    scheduled: int = 0
    cancelled: int = 0
    done: int = 0
    moved: int = 0


def schedule(store: Store, config: Config, now: datetime) -> JobCounts:
    """Follow-up and survey after each sent reply; alerts for high and critical complaints; the digest.

    A reply to a reopened conversation gets a follow-up but no second survey: the customer
    has told us how we did once already.
    """
    counts = JobCounts()
    follow = config.followup
    hours = BusinessHours.of(config)
    with store.transaction():
        for row in store.sent_replies_without_followups():
            sent = datetime.fromisoformat(row["sent_at"])
            days = follow.follow_up_days.get(row["severity"] or "medium", 3)
            follow_at = hours.next_opening(sent + timedelta(days=days))
            survey_at = hours.next_opening(follow_at + timedelta(days=follow.survey_after_days))
            jobs = [("follow_up", follow_at)] + ([] if row["survey_id"] or _no_survey(row) else [("survey", survey_at)])
            if row["kind"] == "praise":
                jobs = []  # they wrote to thank us: nothing to follow up, nothing to score
            for kind, due in jobs:
                if store.add_job(kind, row["conversation_id"], row["draft_id"], row["outbound_pk"], due, now):
                    counts.scheduled += 1
            store.followups_scheduled(row["draft_id"], now)
        # Each complaint is looked at once: alerted if leadership is set and it is severe enough.
        rows = store.complaints_to_alert()
        for row in rows:
            if follow.leadership and row["severity"] in follow.alert_severities and not row["history"]:
                if store.add_job("leadership_alert", row["conversation_id"], None, row["message_pk"], now, now):
                    counts.scheduled += 1
        store.alerts_checked([row["classification_id"] for row in rows])
        if not follow.digest_time:
            counts.cancelled += store.cancel_jobs("daily_digest", "the daily digest is turned off (followup.digest_at)", now)
        elif not store.jobs(state="scheduled", kind="daily_digest"):
            store.add_job("daily_digest", None, None, None, hours.next_time_of_day(now, follow.digest_time), now)
            counts.scheduled += 1
        if not (config.store.raw_days or config.store.case_days):
            counts.cancelled += store.cancel_jobs("retention", "everything is kept (store.raw_days, store.case_days)", now)
        elif not store.jobs(state="scheduled", kind="retention"):
            store.add_job("retention", None, None, None, hours.next_time_of_day(now, RETENTION_AT), now)
            counts.scheduled += 1
    counts.cancelled += store.cancel_superseded_jobs(now)
    return counts


RETENTION_AT = time(3, 0)  # each night, when nobody is waiting on the desk

NO_SURVEY = ("safeguarding", "safety", "legal", "press")  # a score asked for in the middle of these reads as callous


def _no_survey(row: dict) -> bool:
    kinds = json.loads(row["stakes"])["kinds"] if row.get("stakes") else []
    return any(kind in NO_SURVEY for kind in kinds)


def record_answer(store: Store, config: Config, survey_id: int, score: int, comment: str | None, via: str,
                  now: datetime, message_pk: int | None = None) -> bool:
    """Record a survey answer once (False if it was already answered).

    A score of 1 or 2 is a second failure: in the same transaction the conversation goes back
    to the queue for a person (``review.reopen``) and the team is told at once.
    """
    with store.transaction():
        if not store.answer_survey(survey_id, score, comment, via, now, message_pk):
            return False
        if score <= 2:
            draft_id = reopen(store, config, survey_id, now, message_pk)
            store.add_job("low_score_alert", store.survey(survey_id)["conversation_id"], draft_id, None, now, now,
                          survey_id=survey_id)
    return True


def record_survey_replies(store: Store, config: Config, now: datetime, message_ids: list[int]) -> int:
    """A reply such as "4/5" to an open survey counts as its answer (the fallback to links)."""
    answered = 0
    for row in store.survey_replies(message_ids):
        score = parse_score(row["new_text"] or "")
        if score and record_answer(store, config, row["survey_id"], score, row["new_text"], "reply", now, row["id"]):
            answered += 1
    return answered


class JobRunner:
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.templates = Templates.load(config.drafts.templates_dir)
        self.env = self.templates.env(None)
        self.hours = BusinessHours.of(config)
        self.handlers = {
            "follow_up": self._follow_up,
            "survey": self._survey,
            "leadership_alert": self._leadership_alert,
            "low_score_alert": self._low_score_alert,
            "daily_digest": self._daily_digest,
            "retention": self._retention,
            "promise_warning": self._promise_warning,
        }

    def run_due(self, now: datetime) -> JobCounts:
        """Run each due job this process can claim; another process may be running the rest."""
        counts = JobCounts()
        for due in self.store.due_jobs(now):
            with claimed(self.store, "jobs", due["id"], JOB_LEASE) as held:
                job = self.store.job(due["id"]) if held else None  # read again: run meanwhile?
                if job is not None and job["state"] == "scheduled" and job["due_at"] <= iso(now):
                    self._run(job, now, counts, held)
        return counts

    def _run(self, job: dict, now: datetime, counts: JobCounts, held: Claim) -> None:
        if job["kind"] in CUSTOMER_JOBS:
            opening = self.hours.next_opening(now)
            if opening > now:
                with self.store.transaction():
                    self.store.update_job(job["id"], due_at=iso(opening))
                counts.moved += 1
                return
        try:
            with self.store.transaction():
                # First, and in the job's own transaction: still scheduled, and still ours. A
                # process whose lease ran out meanwhile stops here, and its mail is never queued.
                renew(self.store, held, "state = 'scheduled'", state="done", done_at=iso(now),
                      attempts=job["attempts"] + 1)
                self.handlers[job["kind"]](job, now)
            counts.done += 1
        except LostClaim as exc:
            log.warning("job %s (%s): %s; left to it", job["id"], job["kind"], exc)
        except Exception as exc:  # one broken job must not stop the others
            log.exception("job %s (%s) failed", job["id"], job["kind"])
            with self.store.transaction():
                self.store.update_job(job["id"], state="failed", last_error=f"{type(exc).__name__}: {exc}",
                                      attempts=job["attempts"] + 1)

    # -- what each kind of job does (inside the job's transaction) ------------------------------

    def _reply_context(self, job: dict) -> tuple[dict, dict, dict]:
        draft = self.store.draft(job["draft_id"])
        customer = self.store.message(draft["message_pk"])
        ours = self.store.message(job["message_pk"])
        return draft, customer, ours

    def _customer_mail(self, job: dict, template: str, variables: dict, now: datetime) -> None:
        draft, customer, ours = self._reply_context(job)
        config = box_config(self.store, self.config, job["conversation_id"])  # from the case's mailbox
        ctx = build_context(customer["subject"] or "", customer["new_text"] or "", customer["from_name"], customer["signature"] or "")
        env = self.templates.env(draft["language"])  # the customer's language, when the reply was in it
        body = tidy_text(render_template(env, template, {"customer": {"greeting_name": ctx.greeting_name},
                                                  "subject": reply_subject(customer["subject"] or "")[4:],
                                                  "reference": ctx.references[0] if ctx.references else "",
                                                  "category": draft["category"] or "other", **variables}))
        signer = signs_as(self.store, draft["decided_by"]) if draft["decided_by"] else config.drafts.team_name
        rendered = render_reply(env, config, body, signer, draft["subject"])
        message_id = new_message_id(config.smtp.message_id_domain)
        reply = build_reply(
            to_name=draft["to_name"] or "", to_addr=draft["to_addr"], from_name=config.smtp.from_name,
            from_addr=config.smtp.from_address, subject=draft["subject"], in_reply_to=ours["message_id"],
            references=reply_references((customer.get("refs") or []) + [customer["message_id"]], ours["message_id"]),
            text=rendered.text, html=rendered.html, message_id=message_id, date=now)
        self.store.enqueue(kind=job["kind"], draft_id=None, conversation_id=job["conversation_id"],
                           message_id=message_id, to_addr=draft["to_addr"], raw=reply.raw, now=now,
                           box=config.mailbox_name)
        self.store.record_outbound(message_id=message_id, from_addr=config.smtp.from_address,
                                   from_name=config.smtp.from_name, to_addr=draft["to_addr"],
                                   subject=draft["subject"], text=rendered.text,
                                   conversation_id=job["conversation_id"], now=now)

    def _follow_up(self, job: dict, now: datetime) -> None:
        """The follow-up recalls the promise the reply made: it owns a late answer, and asks when
        no later answer is recorded (the team may have answered by phone)."""
        promise = None
        commitment = self.store.commitment_for_draft(job["draft_id"]) if job["draft_id"] else None
        if commitment:
            language = self.store.draft(job["draft_id"])["language"]
            late = commitment["state"] == "kept" and (commitment["closed_at"] or "") > commitment["due_at"]
            promise = {"by": self.hours.dated(datetime.fromisoformat(commitment["due_at"]), language),
                       "kept": commitment["state"] == "kept" and not late, "late": late,
                       "open": commitment["state"] == "open"}
        self._customer_mail(job, "follow_up.txt.j2", {"promise": promise}, now)

    def _survey(self, job: dict, now: datetime) -> None:
        draft = self.store.draft(job["draft_id"])
        survey_id = self.store.add_survey(job["conversation_id"], job["id"], draft["severity"], draft["category"], now)
        secret = self.config.secret_key()
        base = self.config.web.base_url.rstrip("/")
        labels, _ = survey_words(self.templates.phrases.get(draft["language"]))
        links = [{"label": f"{score} - {labels[score]}", "url": f"{base}/survey/{make_token(secret, survey_id, score)}"}
                 for score in reversed(SCORES)]
        self._customer_mail(job, "survey.txt.j2", {"links": links}, now)

    def _internal(self, job: dict, template: str, subject: str, variables: dict, now: datetime,
                  to: tuple[str, ...] = (), thread: dict[str, str] | None = None) -> None:
        """Mail for the team; ``thread`` (recipient -> Message-ID) files it under an earlier one."""
        text = tidy_text(render_template(self.env, template, variables))
        html = render_template(self.env, "reply.html", {"paragraphs": html_paragraphs(text), "subject": subject})
        config = box_config(self.store, self.config, job["conversation_id"])
        for address in to or config.followup.leadership or (config.smtp.from_address,):
            parent = (thread or {}).get(address)
            message_id = new_message_id(config.smtp.message_id_domain)
            reply = build_reply(to_name="", to_addr=address, from_name="Amends", from_addr=config.smtp.from_address,
                                subject=reply_subject(subject) if parent else subject, in_reply_to=parent,
                                references=[parent] if parent else [], text=text, html=html,
                                message_id=message_id, date=now)
            self.store.enqueue(kind=job["kind"], draft_id=None, conversation_id=job["conversation_id"],
                               message_id=message_id, to_addr=address, raw=reply.raw, now=now, box=config.mailbox_name)

    def _leadership_alert(self, job: dict, now: datetime) -> None:
        """One alert per case; a later message in the same case is an update in that thread."""
        msg = self.store.message(job["message_pk"])
        (classification, *_) = self.store.classifications(job["message_pk"])
        earlier = self.store.earlier_cases_of(msg["from_addr"] or "", msg["conversation_id"], msg["id"])
        draft = self.store.draft_for_message(msg["id"])
        first = self.store.first_alerts(msg["conversation_id"])
        case = self.store.conversation_messages(msg["conversation_id"])[0]
        self._internal(job, "alert.txt.j2",
                       f"[{classification['severity'].upper()}] complaint: {case['subject'] or '(no subject)'}",
                       {"severity": classification["severity"], "category": classification["category"],
                        "customer": f"{msg['from_name'] or ''} <{msg['from_addr']}>".strip(), "repeat": len(earlier),
                        "update": bool(first), "subject": msg["subject"], "excerpt": (msg["new_text"] or "")[:800],
                        "reasons": classification["reasons"], "link": self._draft_link(draft["id"] if draft else None)},
                       now, thread=first)

    def _promise_warning(self, job: dict, now: datetime) -> None:
        """Before a promised time: tell its owner, unless the team has already written again."""
        commitment = self.store.commitment_for_draft(job["draft_id"])
        if commitment is None or commitment["state"] != "open":
            self.store.update_job(job["id"], reason="the promise was kept before the warning")
            return
        owner = self.store.user(commitment["owner"])
        if not owner or not owner["email"]:  # the queue's "Promises to keep" still shows it
            self.store.update_job(job["id"], reason=f"{commitment['owner']} has no email (amends user email)")
            return
        draft = self.store.draft(job["draft_id"])
        due = datetime.fromisoformat(commitment["due_at"]).astimezone(self.hours.zone)
        self._internal(job, "promise_due.txt.j2", f"Promise due {due:%H:%M}: {draft['subject']}",
                       {"owner": commitment["owner"], "promise": commitment["promise"], "due": f"{due:%a %d %b %H:%M}",
                        "customer": draft["to_name"] or draft["to_addr"], "subject": draft["subject"],
                        "link": self._draft_link(draft["id"])}, now, to=(owner["email"],))

    def _draft_link(self, draft_id: int | None) -> str:
        base = self.config.web.base_url.rstrip("/")
        return f"{base}/drafts/{draft_id}" if draft_id else f"{base}/"

    def _low_score_alert(self, job: dict, now: datetime) -> None:
        survey = self.store.survey(job["survey_id"])
        first = self.store.conversation_messages(job["conversation_id"])[0]
        self._internal(job, "low_score.txt.j2", f"Low satisfaction score ({survey['score']}/5): {first['subject']}",
                       {"customer": first["from_addr"], "score": survey["score"], "label": LABELS[survey["score"]],
                        "comment": survey["comment"], "subject": first["subject"],
                        "link": self._draft_link(job["draft_id"])}, now)

    def _retention(self, job: dict, now: datetime) -> None:
        done = apply_retention(self.store, self.config, now)
        self.store.update_job(job["id"], reason=done.describe())

    def _daily_digest(self, job: dict, now: datetime) -> None:
        """The complaints since the last digest that did not get an alert of their own."""
        end = datetime.fromisoformat(job["due_at"])
        start = self.store.last_digest_end(other_than=job["id"]) or end - timedelta(days=1)
        alerted = self.config.followup.alert_severities if self.config.followup.leadership else ()
        rows = self.store.complaints_received(iso(start), iso(end), alerted)
        if not rows:
            self.store.update_job(job["id"], reason="no complaints to report")
            return
        rows.sort(key=lambda row: -SEVERITIES.index(row["severity"]) if row["severity"] in SEVERITIES else 0)
        zone = ZoneInfo(self.config.drafts.timezone)
        for row in rows:
            row["link"] = self._draft_link(row["draft_id"])
        mix = Counter(row["severity"] for row in rows)
        day, sent = end.astimezone(zone), now.astimezone(zone)
        late = f" (sent late, {sent:%a} {sent.day} {sent:%b})" if now - end > timedelta(hours=12) else ""
        self._internal(job, "digest.txt.j2",
                       f"Complaints digest for {day:%a} {day.day} {day:%b}: {len(rows)} "
                       f"({', '.join(f'{n} {s}' for s, n in mix.most_common())}){late}",
                       {"rows": rows, "total": len(rows), "start": f"{start.astimezone(zone):%a %d %b %H:%M}",
                        "end": f"{day:%a %d %b %H:%M}",
                        "alerted": " and ".join(alerted),
                        "categories": Counter(r["category"] for r in rows).most_common(),
                        "report": f"{self.config.web.base_url.rstrip('/')}/report"}, now)
