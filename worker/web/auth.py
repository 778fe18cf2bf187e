"""Login and logout."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from ..store import utcnow
from ..users import authenticate
from . import store

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only ever redirect within this site after login."""
    if not target:
        return url_for("drafts.queue")
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("drafts.queue")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        user = authenticate(store(), request.form.get("name", ""), request.form.get("password", ""))
        if user is None:
            flash("That name and password do not match.", "error")
            return render_template("login.html", name=request.form.get("name", "")), 401
        session.clear()  # a fresh session: no fixation
        session.permanent = True
        session["user_id"] = user["id"]
        store().touch_login(user["id"], utcnow())
        store().audit(user["name"], "logged in", "user", user["id"], None, utcnow())
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", name="")


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
