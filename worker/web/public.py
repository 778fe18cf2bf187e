"""The one page customers see: the survey. No login; the signed link is the credential.

Opening a link only shows the chosen score: mail scanners open links by themselves, so the
answer is recorded on an explicit submit, once.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from ..jobs import record_answer
from ..store import utcnow
from ..surveys import LABELS, SurveyLinkError, read_token
from . import config, store

bp = Blueprint("public", __name__)


@bp.route("/survey/<token>", methods=["GET", "POST"])
def survey(token: str):
    settings = config()
    try:
        survey_id, score = read_token(current_app.config["SECRET_KEY"], token, settings.followup.survey_link_days)
    except SurveyLinkError as exc:
        return render_template("survey.html", error=str(exc), company=settings.drafts.company), 400
    row = store().survey(survey_id)
    if row is None:
        return render_template("survey.html", error="This survey link is not valid.", company=settings.drafts.company), 404
    if row["answered_at"]:
        return render_template("survey.html", done=True, already=True, company=settings.drafts.company)
    if request.method == "POST":
        comment = (request.form.get("comment") or "").strip()[:4000] or None
        record_answer(store(), settings, survey_id, score, comment, "link", utcnow())
        return render_template("survey.html", done=True, company=settings.drafts.company)
    return render_template("survey.html", score=score, label=LABELS[score], company=settings.drafts.company)
