"""Drafting the reply a good agent would write: context in, text out, in Jinja's sandbox.

Templates are admin-edited files, so they run in ``SandboxedEnvironment`` (no access to Python
internals) with ``StrictUndefined`` (a misspelt variable is an error shown to the reviewer,
never a silent hole in a customer's mail). The HTML part is rendered with autoescaping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from .config import Config
from .context import ReplyContext
from .errors import AmendsError
from .mime import html_paragraphs

CATEGORY_NOUNS = {
    "delivery": "delivery", "billing": "bill", "defect": "order", "outage": "service",
    "staff": "experience with our team", "account": "account", "privacy": "personal information",
    "other": "experience",
}


class TemplateError(AmendsError):
    """A reply template failed; the message names the file and line for the admin."""


@dataclass(frozen=True)
class RenderedReply:
    text: str
    html: str


def environment(templates_dir: str | Path) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        keep_trailing_newline=False,
    )


def render_template(env: SandboxedEnvironment, name: str, variables: dict) -> str:
    try:
        return env.get_template(name).render(**variables)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"reply template {exc.name} is missing from {env.loader.searchpath[0]}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"reply template {exc.name or name} line {exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"reply template {name}: {exc.message} (see templates/replies/README.md for the variables)") from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"reply template {name} tried something the sandbox forbids: {exc}") from None


def deadline_text(now: datetime, hours: int, timezone: str) -> str:
    """'by 5pm today' reads better than a timestamp: a promise a person would make."""
    local_now = now.astimezone(ZoneInfo(timezone))
    due = local_now + timedelta(hours=hours)
    hour = due.strftime("%I%p").lstrip("0").lower()
    if hours <= 4:
        return f"{hour} today" if due.date() == local_now.date() else f"{hour} tomorrow"
    if due.date() == local_now.date():
        return "the end of today"
    if due.date() == (local_now + timedelta(days=1)).date():
        return f"{hour} tomorrow"
    return f"{due.strftime('%A')} {due.day} {due.strftime('%B')}"


def draft_variables(config: Config, ctx: ReplyContext, severity: str, category: str, now: datetime) -> dict:
    return {
        "customer": {"greeting_name": ctx.greeting_name, "first_name": ctx.first_name},
        "issue": {
            "sentence": ctx.complaint_sentence,
            "reference": ctx.references[0] if ctx.references else None,
            "amount": ctx.amounts[0] if ctx.amounts else None,
            "date": ctx.dates[0] if ctx.dates else None,
            "noun": CATEGORY_NOUNS.get(category, "experience"),
            "subject": ctx.subject,
        },
        "severity": severity,
        "category": category,
        "remedy": config.drafts.remedy(category, severity),
        "deadline": deadline_text(now, config.drafts.answer_within_hours[severity], config.drafts.timezone),
        "company": config.drafts.company,
    }


def tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        line = " ".join(line.split())
        if not line and out and not out[-1]:
            continue
        out.append(line)
    return "\n".join(out).strip() + "\n"


def render_draft(env: SandboxedEnvironment, config: Config, ctx: ReplyContext, severity: str, category: str, now: datetime) -> str:
    """The draft body a reviewer will see and may edit (no signature yet)."""
    name = f"{category}.txt.j2" if category in CATEGORY_NOUNS else "other.txt.j2"
    return tidy_text(render_template(env, name, draft_variables(config, ctx, severity, category, now)))


def render_reply(env: SandboxedEnvironment, config: Config, body: str, agent: str, subject: str) -> RenderedReply:
    """The approved body, signed by the reviewer, as text and as escaped HTML."""
    signature = render_template(env, "signature.txt.j2", {"agent": agent, "team": config.drafts.team_name, "company": config.drafts.company})
    text = tidy_text(body.strip() + "\n\n" + signature)
    html = render_template(env, "reply.html", {"paragraphs": html_paragraphs(text), "subject": subject})
    return RenderedReply(text=text, html=html)
