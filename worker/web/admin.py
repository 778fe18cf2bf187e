"""Admin pages: tune the complaint threshold from measured precision and recall; the report.

The threshold table and curve are measured on predictions the model made without having seen
the records (its group K-fold out-of-fold predictions) plus every message a reviewer labelled.
Saving a threshold is audited and takes effect at the worker's next pass, without a restart.
"""

from __future__ import annotations

import io
import json
import tempfile
import threading
from pathlib import Path

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for

from classifiers import metrics
from classifiers.labels import model_dir_version

from ..desk.detect import thresholds_of
from ..desk.report import Report, build_report, write_charts
from ..store import utcnow
from . import config, store

bp = Blueprint("admin", __name__)
def _require_admin() -> None:
    if not g.user["is_admin"]:
        abort(403)


def measured() -> tuple[list[int], list[float], str | None]:
    """True labels and P(complaint): out-of-fold corpus predictions plus reviewer labels."""
    model_dir = Path(config().classifier.model_dir)
    version = model_dir_version(model_dir)
    y: list[int] = []
    p: list[float] = []
    oof = model_dir / version / "oof.json" if version else None
    if oof and oof.exists():
        data = json.loads(oof.read_text())
        y, p = list(data["complaint_true"]), list(data["complaint_p"])
    for label, probability in store().reviewed_probabilities():
        y.append(int(label))
        p.append(float(probability))
    return y, p, version


@bp.route("/admin/thresholds", methods=["GET", "POST"])
def thresholds():
    _require_admin()
    if request.method == "POST":
        try:
            value = float(request.form.get("complaint", ""))
        except ValueError:
            value = -1.0
        if not 0.05 <= value <= 0.95:
            flash("Choose a threshold between 0.05 and 0.95.", "error")
        else:
            store().set_setting("classifier.complaint_threshold", f"{value:.2f}", g.user["name"], utcnow())
            flash(f"Complaint threshold set to {value:.2f}; the worker uses it from its next pass.", "info")
        return redirect(url_for("admin.thresholds"))
    y, p, version = measured()
    table = metrics.threshold_table(y, p) if len(set(y)) == 2 else []
    return render_template("thresholds.html", table=table, current=thresholds_of(config(), store()).complaint,
                           version=version, records=len(y), reviewed=len(store().reviewed_probabilities()))


@bp.route("/admin/thresholds/pr.png")
def pr_png():
    _require_admin()
    y, p, version = measured()
    if len(set(y)) < 2:
        abort(404)
    with tempfile.TemporaryDirectory() as tmp:
        path = metrics.pr_curve_png(y, p, Path(tmp) / "pr.png", f"Complaint head, model {version}",
                                    thresholds_of(config(), store()).complaint)
        return send_file(io.BytesIO(path.read_bytes()), mimetype="image/png")


_cache: dict = {"key": None, "report": None, "charts": {}}
_cache_lock = threading.Lock()


def _report() -> tuple[Report, dict]:
    """The report, built once per change in the store (not once per chart on the page)."""
    key = (config().store.path, store().fingerprint())
    with _cache_lock:
        if _cache["key"] != key:
            _cache.update(key=key, report=build_report(store()), charts={})
        return _cache["report"], _cache["charts"]


@bp.route("/report")
def report():
    r, _ = _report()
    return render_template("report.html", r=r, median=Report.median, charts=r.charts())


@bp.route("/report/<name>.png")
def report_chart(name: str):
    r, charts = _report()
    if name not in r.charts():
        abort(404)
    if name not in charts:
        with tempfile.TemporaryDirectory() as tmp:
            (path,) = write_charts(r, Path(tmp), only={name})
            charts[name] = path.read_bytes()
    return send_file(io.BytesIO(charts[name]), mimetype="image/png")
