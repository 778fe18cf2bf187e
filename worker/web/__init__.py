"""The review pages: a Flask app factory, one blueprint per noun.

Every page but the login page (and, later, the public survey page) needs a session. Forms
carry CSRF tokens; templates autoescape everything; a strict Content-Security-Policy allows no
inline script at all, so even a missed escape cannot run code in a reviewer's browser.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from ..config import Config
from ..desk.drafts import Templates
from ..store import Store

ROOT = Path(__file__).resolve().parent.parent.parent
PUBLIC_ENDPOINTS = {"auth.login", "static"}
MAX_REQUEST_BYTES = 1_048_576  # the largest form is a draft's text: far below this

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'")


def create_app(config: Config, secret_key: str | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates" / "web"), static_folder="static")
    app.config.update(
        SECRET_KEY=secret_key or config.secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="amends_session",
        SESSION_COOKIE_SECURE=config.web.base_url.startswith("https://"),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_REQUEST_BYTES,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config.web.session_hours),
        WTF_CSRF_TIME_LIMIT=config.web.session_hours * 3600,
        AMENDS=config,
    )
    CSRFProtect(app)

    from . import admin, auth, drafts, public

    app.register_blueprint(auth.bp)
    app.register_blueprint(drafts.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)

    @app.before_request
    def require_login():
        if request.endpoint in PUBLIC_ENDPOINTS or (request.endpoint or "").startswith("public."):
            return None
        if "user_id" not in session:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
        user = store().user_by_id(session["user_id"])
        if user is None or session.get("epoch") != user["session_epoch"]:  # revoked: logout, new password
            session.clear()
            return redirect(url_for("auth.login"))
        g.user = user
        return None

    @app.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_appcontext
    def close_store(_exc):
        opened = g.pop("store", None)
        if opened is not None:
            opened.close()

    return app


def quiet_server_logs() -> None:
    """waitress warns "Task queue depth is 1" whenever two requests meet: noise, not news."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def config() -> Config:
    from flask import current_app

    return current_app.config["AMENDS"]


def templates() -> Templates:
    """The reply templates and each language's phrases, loaded once."""
    from flask import current_app

    loaded = current_app.config.get("AMENDS_TEMPLATES")
    if loaded is None:
        loaded = current_app.config["AMENDS_TEMPLATES"] = Templates.load(config().drafts.templates_dir)
    return loaded


def store() -> Store:
    """One connection per request: SQLite connections are not shared between threads."""
    if "store" not in g:
        g.store = Store.open(config().store.path, config().store.busy_timeout_seconds)
    return g.store
