"""Training: labelled records in, a versioned ``Classifier`` and honest figures out.

Figures come from out-of-fold predictions of a group K-fold: every record is predicted by a
model that never saw its *group* (its scenario), so the numbers say how Amends does on mail it
has never seen the like of. The same out-of-fold predictions are kept for tuning thresholds.
The shipped model is then fitted on everything. Seeds are fixed: same data, same model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.multiclass import OneVsRestClassifier

from .features import vectorizer
from .labels import message_text
from .metrics import head_metrics
from .model import CATEGORIES, SEVERITIES, Classifier, Thresholds, severity_from

SEED = 20261123
DEFAULT_DATA = Path(__file__).parent / "data" / "corpus.jsonl"

Progress = Callable[[str], None]


def read_jsonl(paths: Iterable[Path]) -> Iterator[dict]:
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from None


def record_text(record: dict) -> str:
    if "text" in record:
        return record["text"] or ""
    return message_text(record.get("subject"), record.get("body"))


def data_hash(records: list[dict]) -> str:
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def _linear(C: float) -> LogisticRegression:
    # liblinear: on ~300k sparse features it is several times faster than lbfgs.
    return LogisticRegression(C=C, solver="liblinear", class_weight="balanced", random_state=SEED)


def fit_parts(texts: list[str], complaint: np.ndarray, severity: list, category: list) -> dict:
    union = vectorizer()
    X = union.fit_transform(texts)
    parts = {"union": union, "complaint": _linear(4.0).fit(X, complaint)}
    mask = complaint.astype(bool)
    Xc = X[mask]
    levels = np.array([SEVERITIES.index(s) for s in np.array(severity, dtype=object)[mask]])
    parts["severity"] = [_linear(2.0).fit(Xc, (levels > k).astype(int)) for k in range(3)]
    # One-vs-rest binary heads: a multinomial fit is ten times slower here for the same figures.
    parts["category"] = OneVsRestClassifier(_linear(4.0)).fit(
        Xc, np.array(category, dtype=object)[mask].astype(str)
    )
    return parts


def _labels(records: list[dict]) -> tuple[list[str], np.ndarray, list, list]:
    texts = [record_text(r) for r in records]
    complaint = np.array([1 if r["complaint"] else 0 for r in records])
    severity = [r.get("severity") for r in records]
    category = [r.get("category") for r in records]
    for r, c, s, k in zip(records, complaint, severity, category):
        if c and (s not in SEVERITIES or k not in CATEGORIES):
            raise ValueError(f"record {r.get('id')}: a complaint needs a severity and a category from RUBRIC.md")
    return texts, complaint, severity, category


def cross_validate(records: list[dict], folds: int = 5, progress: Progress | None = None) -> dict:
    """Out-of-fold probabilities for every record, from a group K-fold."""
    texts, complaint, severity, category = _labels(records)
    groups = [r.get("group") or r.get("id") for r in records]
    n = len(records)
    oof_complaint = np.zeros(n)
    oof_at_least = np.zeros((n, 3))
    oof_category = np.zeros((n, len(CATEGORIES)))
    for fold, (train, test) in enumerate(GroupKFold(n_splits=folds).split(texts, complaint, groups), 1):
        if progress:
            progress(f"fold {fold}/{folds}")
        parts = fit_parts([texts[i] for i in train], complaint[train], [severity[i] for i in train], [category[i] for i in train])
        model = Classifier(parts, {"version": f"cv-{fold}"})
        c, a, k, _ = model.probabilities([texts[i] for i in test])
        oof_complaint[test], oof_at_least[test] = c, a
        order = [list(parts["category"].classes_).index(name) if name in parts["category"].classes_ else None for name in CATEGORIES]
        for j, idx in enumerate(order):
            if idx is not None:
                oof_category[test, j] = k[:, idx]
    return {
        "ids": [r.get("id") for r in records],
        "complaint_true": complaint.tolist(),
        "severity_true": severity,
        "category_true": category,
        "complaint_p": oof_complaint.round(5).tolist(),
        "severity_at_least": oof_at_least.round(5).tolist(),
        "category_p": oof_category.round(5).tolist(),
    }


def figures(oof: dict, thresholds: Thresholds = Thresholds()) -> dict:
    """Precision, recall and F1 of each head from out-of-fold predictions."""
    complaint_true = np.array(oof["complaint_true"])
    complaint_pred = (np.array(oof["complaint_p"]) >= thresholds.complaint).astype(int)
    mask = complaint_true.astype(bool)
    at_least = np.array(oof["severity_at_least"])[mask]
    sev_true = [s for s, m in zip(oof["severity_true"], mask) if m]
    sev_pred = [severity_from(row, thresholds) for row in at_least]
    cat_true = [c for c, m in zip(oof["category_true"], mask) if m]
    cat_pred = [CATEGORIES[i] for i in np.argmax(np.array(oof["category_p"])[mask], axis=1)]
    return {
        "complaint": head_metrics(complaint_true.tolist(), complaint_pred.tolist(), [0, 1]),
        "severity": head_metrics(sev_true, sev_pred, list(SEVERITIES)),
        "category": head_metrics(cat_true, cat_pred, list(CATEGORIES)),
        "records": len(complaint_true),
    }


def train(records: list[dict], model_dir: Path, folds: int = 5, progress: Progress | None = None) -> Classifier:
    """Cross-validate, fit on everything, and save a new version (not yet active)."""
    records = sorted(records, key=lambda r: str(r.get("id")))
    oof = cross_validate(records, folds, progress)
    if progress:
        progress("final model")
    texts, complaint, severity, category = _labels(records)
    parts = fit_parts(texts, complaint, severity, category)
    digest = data_hash(records)
    version = f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{digest[:8]}"
    meta = {
        "version": version,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sklearn_version": sklearn.__version__,
        "data_sha256": digest,
        "records": len(records),
        "seed": SEED,
        "folds": folds,
        "metrics": figures(oof),
    }
    classifier = Classifier(parts, meta)
    path = model_dir / version
    classifier.save(path)
    (path / "oof.json").write_text(json.dumps(oof))
    return classifier
