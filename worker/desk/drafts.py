"""Drafting the reply a good agent would write: context in, text out, in Jinja's sandbox.

Templates are admin-edited files, so they run in ``SandboxedEnvironment`` (no access to Python
internals) with ``StrictUndefined`` (a misspelt variable is an error shown to the reviewer,
never a silent hole in a customer's mail). The HTML part is rendered with autoescaping.
"""

from __future__ import annotations

import json
import re
import tomllib
import zlib
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from classifiers.labels import CATEGORIES

from ..config import Config
from ..errors import AmendsError
from ..mail.mime import html_paragraphs
from .asks import Asks
from .context import ReplyContext
from .restate import says_repeat
from .stakes import Stakes
from .surveys import PAGE, SCORES

DEFAULT_LANGUAGE = "en"
REPLY_TEMPLATES = (*(f"{c}.txt.j2" for c in CATEGORIES), "base.txt.j2", "legal.txt.j2", "replied.txt.j2",
                   "reopened.txt.j2", "praise.txt.j2", "safety.txt.j2", "signature.txt.j2")

_REPLACEMENT_OFFER = re.compile(r"replacement|remplacement|ersatz", re.I)
_REFUND_OFFER = re.compile(r"refund|rembours", re.I)

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


def environment(templates_dir: str | Path | list[Path]) -> SandboxedEnvironment:
    paths = [str(p) for p in templates_dir] if isinstance(templates_dir, list) else [str(templates_dir)]
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(paths),
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


DEADLINE = "{deadline}"  # in a draft: filled in at approval, when the promise is made


@dataclass(frozen=True)
class Templates:
    """The reply templates, one sandboxed environment per language that has a full set.

    ``templates/replies/<lang>/`` overrides the English files; a language counts only when it
    has every reply template, so a French mail never gets a reply that is half English.
    """

    root: Path
    envs: dict
    phrases: dict  # language -> its phrases.toml (remedies and team names in that language)

    @classmethod
    def load(cls, templates_dir: str | Path) -> "Templates":
        root = Path(templates_dir)
        envs, phrases = {DEFAULT_LANGUAGE: environment(root)}, {}
        for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else ():
            if all((folder / name).is_file() for name in REPLY_TEMPLATES):
                envs[folder.name] = environment([folder, root])
                phrases[folder.name] = _phrases(folder / "phrases.toml")
        return cls(root, envs, phrases)

    def env(self, language: str | None) -> SandboxedEnvironment:
        return self.envs.get(language or DEFAULT_LANGUAGE, self.envs[DEFAULT_LANGUAGE])

    def language_for(self, customer_language: str | None) -> str:
        return customer_language if customer_language in self.envs else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Composed:
    """A drafted reply and what decided it, for the reviewer to see."""

    body: str
    template: str
    language: str
    stakes: Stakes
    hold_role: str | None


def _phrases(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        phrases = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: not valid TOML: {exc}") from None
    survey = phrases.get("survey", {})
    labels = survey.get("labels", [""] * len(SCORES))
    if not (isinstance(labels, list) and len(labels) == len(SCORES) and all(isinstance(x, str) for x in labels)):
        raise TemplateError(f"{path}: [survey] labels must be {len(SCORES)} answers, from the worst to the best")
    unknown = sorted(set(survey) - set(PAGE) - {"labels"})
    if unknown:
        raise TemplateError(f"{path}: [survey] has no {unknown[0]!r}; it takes labels and {', '.join(PAGE)}")
    return phrases


def remedy_for(config: Config, category: str, severity: str, stakes: Stakes, phrases: dict | None = None,
               asks: Asks | None = None) -> str | None:
    """The extra, in proportion; never for a legal threat (an offer reads as an admission), and
    never the replacement that already failed or that a safety problem rules out.

    ``phrases`` are a language's own words; without them, the config's (English) ones."""
    if any(kind in stakes for kind in ("legal", "press", "safeguarding")) or (asks and ("cancel" in asks or asks.left)):
        return None  # an offer reads as an admission, a bribe, or (to someone leaving) a joke
    if phrases is None:
        remedy, instead = config.drafts.remedy(category, severity), config.drafts.remedy_if_replacement_failed
    else:
        remedy, instead = phrases.get("remedies", {}).get(category, {}).get(severity), phrases.get("if_replacement_failed")
    if remedy and (stakes.replacement_failed or "safety" in stakes) and _REPLACEMENT_OFFER.search(remedy):
        return instead
    if remedy and asks and any(kind in asks for kind in ("refund", "replacement", "repair")) and (
            _REFUND_OFFER.search(remedy) or _REPLACEMENT_OFFER.search(remedy)):
        return None  # what they asked for is the remedy; an extra that repeats or contradicts it is noise
    return remedy


_SOON = re.compile(r"\b(?:today|tonight|tomorrow|end of (?:the )?day|aujourd'hui|ce soir|demain)\b", re.I)


def urgent(severity: str | None, stakes_kinds: tuple[str, ...] | list[str], deadline: str | None) -> bool:
    """A critical case that cannot wait for business hours: a person at risk, or a deadline of
    today or tomorrow. The promise is then a call from whoever is on call, in clock hours."""
    return severity == "critical" and ("safeguarding" in stakes_kinds or bool(deadline and _SOON.search(deadline)))


def urgent_draft(draft: dict) -> bool:
    """``urgent`` for a stored draft (its stakes and asks are JSON)."""
    kinds = json.loads(draft["stakes"])["kinds"] if draft.get("stakes") else []
    deadline = json.loads(draft["asks"]).get("deadline") if draft.get("asks") else None
    return urgent(draft.get("severity"), kinds, deadline)


def picker(variant: int):
    """``pick(a, b, c)`` for the templates: one phrasing per case, and the next one for the next
    message in it, so a customer who writes twice never reads the same words twice."""
    def pick(*options: str) -> str:
        return options[(variant + zlib.crc32(options[0].encode())) % len(options)] if options else ""
    return pick


def draft_variables(config: Config, ctx: ReplyContext, severity: str, category: str, stakes: Stakes,
                    phrases: dict | None = None, variant: int = 0) -> dict:
    sentence = ctx.complaint_sentence.replace('"', "'") if ctx.complaint_sentence else None  # we quote it
    reference = ctx.references[0] if ctx.references else None
    if reference and sentence and reference.split()[-1].lstrip("#").lower() in sentence.lower():
        reference = None  # the customer's own words already name it: once is enough
    return {
        "customer": {"greeting_name": ctx.greeting_name, "first_name": ctx.first_name},
        "issue": {
            "sentence": sentence,
            "restated": ctx.restated,
            "problems": list(ctx.problems),
            "says_repeat": says_repeat(ctx.restated),
            "reference": reference,
            "amount": ctx.amounts[0] if ctx.amounts else None,
            "date": ctx.dates[0] if ctx.dates else None,
            "noun": CATEGORY_NOUNS.get(category, "experience"),
            "subject": ctx.subject,
        },
        "questions": list(ctx.questions),
        "colleague": ctx.colleague,
        "stakes": stakes.to_json(),
        "severity": severity,
        "category": category,
        "remedy": remedy_for(config, category, severity, stakes, phrases, ctx.asks),
        "asks": ctx.asks.to_json(),
        "callback_number": callback.number if (callback := ctx.asks.get("callback")) else None,
        "urgent": urgent(severity, stakes.kinds, ctx.asks.deadline),
        "on_call": (phrases or {}).get("on_call") or config.drafts.on_call,
        "press_team": (phrases or {}).get("press_team") or config.drafts.press_team,
        "safeguarding_team": (phrases or {}).get("safeguarding_team") or config.drafts.safeguarding_team,
        "deadline": DEADLINE,
        "pick": picker(variant),
        "company": config.drafts.company,
        "legal_team": (phrases or {}).get("legal_team") or config.drafts.legal_team,
        "privacy_contact": config.drafts.privacy_contact,
    }


def template_name(kind: str, category: str, stakes: Stakes) -> str:
    if kind in ("replied", "reopened", "praise"):
        return f"{kind}.txt.j2"
    if "press" in stakes:
        return "press.txt.j2"
    if "legal" in stakes:
        return "legal.txt.j2"
    return f"{category}.txt.j2" if category in CATEGORY_NOUNS else "other.txt.j2"


def compose(templates: Templates, config: Config, ctx: ReplyContext, severity: str, category: str, stakes: Stakes,
            customer_language: str | None = None, kind: str = "complaint", extra: dict | None = None,
            variant: int = 0) -> Composed:
    """The draft a reviewer sees (no signature yet, the deadline and the answers to questions
    still placeholders). ``variant`` picks the phrasing: the case's id plus its turn."""
    language = templates.language_for(customer_language)
    name = template_name(kind, category, stakes)
    phrases = templates.phrases.get(language) if language != DEFAULT_LANGUAGE else None
    variables = draft_variables(config, ctx, severity, category, stakes, phrases, variant) | (extra or {})
    body = tidy_text(render_template(templates.env(language), name, variables))
    hold = next((config.drafts.hold_for[k] for k in stakes.kinds if config.drafts.hold_for.get(k)), None)
    return Composed(body, name, language, stakes, hold)


def fill_deadline(body: str, phrase: str) -> str:
    return body.replace(DEADLINE, phrase)


# Where the customer asked a question only a person can answer, the draft leaves
# "{answer: Is there a fix coming?}" and cannot be approved until the reviewer writes the answer.
_UNANSWERED = re.compile(r"\{(?:answer|réponse) ?: ?([^{}\n]{0,400})\}")


def unanswered(body: str) -> list[str]:
    """The questions still waiting for the reviewer's answer in ``body``."""
    return [m.group(1).strip() for m in _UNANSWERED.finditer(body)]


def tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        line = " ".join(line.split())
        if not line and out and not out[-1]:
            continue
        out.append(line)
    return "\n".join(out).strip() + "\n"


def render_reply(env: SandboxedEnvironment, config: Config, body: str, agent: str, subject: str) -> RenderedReply:
    """``env`` is the draft's language: the signature is in it too."""
    """The approved body, signed by the reviewer, as text and as escaped HTML."""
    signature = render_template(env, "signature.txt.j2", {"agent": agent, "team": config.drafts.team_name, "company": config.drafts.company})
    text = tidy_text(body.strip() + "\n\n" + signature)
    html = render_template(env, "reply.html", {"paragraphs": html_paragraphs(text), "subject": subject})
    return RenderedReply(text=text, html=html)
