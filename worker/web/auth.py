"""Login and logout."""

from __future__ import annotations

import secrets
from urllib.parse import urlparse

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..desk.users import authenticate
from ..store import utcnow
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


# Five wrong passwords are free; then each name and each client address waits 30 s, doubling
# with every further failure up to 15 minutes. Guessing a password takes years, a typo seconds.
FREE_FAILURES, FIRST_WAIT_SECONDS, LONGEST_WAIT_SECONDS = 5, 30, 900

# A browser that signed in as a user before carries a signed device cookie, and its tries are
# counted apart: a stranger's wrong guesses at a name cannot lock its owner out of their own
# browser, and a right password on one account does not wipe what an address tried on others.
DEVICE_COOKIE, DEVICE_DAYS = "amends_device", 90


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="amends-device")


def _known_device(name: str) -> str | None:
    """This browser's device id, when it has signed in as ``name`` before."""
    try:
        data = _devices().loads(request.cookies.get(DEVICE_COOKIE, ""), max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    return data.get("device") if isinstance(data, dict) and data.get("name") == name.strip().lower() else None


def _throttle_keys(name: str, device: str | None) -> list[str]:
    if device:
        return [f"device:{device}"]
    return [f"name:{name.strip().lower()[:64]}", f"address:{request.remote_addr or '-'}"]


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        name, now = request.form.get("name", ""), utcnow()
        device = _known_device(name)
        keys = _throttle_keys(name, device)
        blocked = store().login_blocked_until(keys, now)
        if blocked is not None:
            wait = max(1, int((blocked - now).total_seconds()))
            flash(f"Too many wrong passwords. Try again in {wait} seconds.", "error")
            response = make_response(render_template("login.html", name=name), 429)
            response.headers["Retry-After"] = str(wait)
            return response
        user = authenticate(store(), name, request.form.get("password", ""))
        if user is None:
            store().login_failed(keys, now, FREE_FAILURES, FIRST_WAIT_SECONDS, LONGEST_WAIT_SECONDS)
            flash("That name and password do not match.", "error")
            return render_template("login.html", name=name), 401
        store().login_succeeded([key for key in keys if not key.startswith("address:")])
        session.clear()  # a fresh session: no fixation
        session.permanent = True
        session["user_id"] = user["id"]
        session["epoch"] = user["session_epoch"]
        store().touch_login(user["id"], now)
        store().audit(user["name"], "logged in", "user", user["id"], None, now)
        response = redirect(_safe_next(request.args.get("next")))
        response.set_cookie(DEVICE_COOKIE, _devices().dumps({"name": name.strip().lower(),
                                                            "device": device or secrets.token_urlsafe(16)}),
                            max_age=DEVICE_DAYS * 86400, httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
        return response
    return render_template("login.html", name="")


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends this session and every other copy of its cookie: the server stops accepting them."""
    if "user_id" in session:
        store().revoke_sessions(session["user_id"])
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
