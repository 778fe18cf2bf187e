"""The one page customers see: the survey. No login; the signed link is the credential.

Opening a link only shows the chosen score: mail scanners open links by themselves, so the
answer is recorded on an explicit submit, once.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from ..desk.drafts import DEFAULT_LANGUAGE
from ..desk.jobs import record_answer
from ..desk.surveys import SurveyLinkError, read_token, survey_words
from ..store import utcnow
from . import config, store, templates

bp = Blueprint("public", __name__)


@bp.route("/survey/<token>", methods=["GET", "POST"])
def survey(token: str):
    """In the language of the reply the survey follows up on; for a link too damaged to name
    its survey, in the one the browser asks for."""
    settings = config()
    phrases = templates().phrases
    try:
        survey_id, score = read_token(current_app.config["SECRET_KEY"], token, settings.followup.survey_link_days)
    except SurveyLinkError as exc:
        asked = request.accept_languages.best_match([DEFAULT_LANGUAGE, *phrases])
        return _page(asked, error=exc.reason), 400
    row = store().survey(survey_id)
    draft = store().survey_draft(survey_id) if row else None
    language = draft["language"] if draft else None
    if row is None:
        return _page(language, error="invalid"), 404
    if row["answered_at"]:
        return _page(language, done=True, already=True)
    if request.method == "POST":
        comment = (request.form.get("comment") or "").strip()[:4000] or None
        recorded = record_answer(store(), settings, survey_id, score, comment, "link", utcnow())
        return _page(language, done=True, already=not recorded)  # another answer got in first
    return _page(language, score=score)


def _page(language: str | None, **values: object) -> str:
    phrases = templates().phrases.get(language)
    labels, words = survey_words(phrases)
    company = config().drafts.company
    words = dict(words, recorded=words["recorded"].replace("{company}", company))
    score = values.get("score")
    choice = words["score"].replace("{score}", str(score)).replace("{label}", labels[score]) if score else None
    return render_template("survey.html", words=words, company=company, choice=choice,
                           page_language=language if phrases else DEFAULT_LANGUAGE, **values)
