"""Training: labelled records in, a versioned ``Classifier`` and honest figures out.

Every record is turned into two views: TF-IDF words and characters (exact wording, cheap
reasons for reviewers) and a sentence vector from a pre-trained encoder (meaning, which is
what carries over to mail written unlike anything in the training set). Logistic-regression
heads read both.

Figures come from out-of-fold predictions of a group K-fold: every record is predicted by a
model that never saw its *group* (its scenario or its source's intent), and those predictions
are kept for tuning thresholds. The shipped model is then fitted on everything. Figures on
real text from sources the model never saw come from ``compare.py``. Seeds are fixed: same
data, same model.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.multiclass import OneVsRestClassifier

from .encoder import Encoder, EncodingCache
from .features import vectorizer
from .labels import message_text
from .metrics import head_metrics
from .model import CATEGORIES, SEVERITIES, Classifier, Thresholds, combine, severity_from

SEED = 20261123
DATA = Path(__file__).parent / "data"
CORPUS = DATA / "corpus.jsonl"
TRAINING_DATA = [CORPUS, *sorted((DATA / "real").glob("*.jsonl"))]

Progress = Callable[[str, int, int], None]  # stage, done, total


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


def source_of(record: dict) -> str:
    return record.get("source") or "corpus"


def data_hash(records: list[dict]) -> str:
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def _linear(C: float) -> LogisticRegression:
    # liblinear: on ~300k sparse features it is several times faster than lbfgs.
    return LogisticRegression(C=C, solver="liblinear", class_weight="balanced", random_state=SEED)


# Strong regularisation: chosen on the development tweets, where it transfers best (see SOURCES.md).
COMPLAINT_C, SEVERITY_C, CATEGORY_C = 0.1, 0.1, 1.0


class Stopped(Exception):
    """Training was asked to stop (Ctrl-C) between two fits."""


def fit_parts(texts: list[str], vectors: np.ndarray, complaint: np.ndarray, severity: list, category: list,
              stop: threading.Event | None = None) -> dict:
    """``stop``, when set, ends the work before its next fit: Ctrl-C waits for one head, not a fold."""
    def fit(head, X, y):
        if stop is not None and stop.is_set():
            raise Stopped
        return head.fit(X, y)

    union = vectorizer()
    X = combine(union.fit_transform(texts), vectors)
    parts = {"union": union, "complaint": fit(_linear(COMPLAINT_C), X, complaint)}
    levels = np.array([SEVERITIES.index(s) if s in SEVERITIES else -1 for s in severity])
    rated = complaint.astype(bool) & (levels >= 0)
    parts["severity"] = [fit(_linear(SEVERITY_C), X[rated], (levels[rated] > k).astype(int)) for k in range(3)]
    named = complaint.astype(bool) & np.array([c in CATEGORIES for c in category])
    if stop is not None and stop.is_set():
        raise Stopped
    # One-vs-rest binary heads: a multinomial fit is ten times slower here for the same figures.
    parts["category"] = OneVsRestClassifier(_linear(CATEGORY_C)).fit(
        X[named], np.array(category, dtype=object)[named].astype(str))
    return parts


class Labelled(NamedTuple):
    texts: list[str]
    complaint: np.ndarray
    severity: list
    category: list


def _labels(records: list[dict]) -> Labelled:
    """Texts and labels. A complaint's severity or category may be missing (a source that does
    not say); one that is given must be a name from RUBRIC.md."""
    texts = [record_text(r) for r in records]
    complaint = np.array([1 if r["complaint"] else 0 for r in records])
    severity = [r.get("severity") for r in records]
    category = [r.get("category") for r in records]
    for r, c, s, k in zip(records, complaint, severity, category):
        if c and (s not in (None, *SEVERITIES) or k not in (None, *CATEGORIES)):
            raise ValueError(f"record {r.get('id')}: severity {s!r} or category {k!r} is not a name from RUBRIC.md")
    for what, values, names in (("severity", severity, SEVERITIES), ("category", category, CATEGORIES)):
        found = {v for v, c in zip(values, complaint) if c and v in names}
        if len(found) < 2:
            raise ValueError(f"the training data needs complaints labelled with at least two {what} values, "
                             f"found {sorted(found) or 'none'}")
    return Labelled(texts, complaint, severity, category)


def encode(texts: list[str], cache: Path, progress: Progress | None = None) -> np.ndarray:
    """Sentence vectors, from the cache where a text was seen before."""
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("encoding", done, len(texts))

    return EncodingCache(cache, Encoder(threads=os.cpu_count() or 1)).encode(texts, step)


def cross_validate(records: list[dict], data: Labelled, vectors: np.ndarray, folds: int = 5,
                   progress: Progress | None = None) -> dict:
    """Out-of-fold probabilities for every record, from a group K-fold."""
    texts, complaint, severity, category = data
    groups = [r.get("group") or r.get("id") for r in records]
    n = len(records)
    oof_complaint = np.zeros(n)
    oof_at_least = np.zeros((n, 3))
    oof_category = np.zeros((n, len(CATEGORIES)))
    splits = list(GroupKFold(n_splits=folds).split(texts, complaint, groups))
    finished = 0
    stop = threading.Event()

    def fold(split: tuple[np.ndarray, np.ndarray]) -> None:
        nonlocal finished
        train, test = split
        try:
            parts = fit_parts([texts[i] for i in train], vectors[train], complaint[train],
                              [severity[i] for i in train], [category[i] for i in train], stop)
        except Stopped:
            return
        model = Classifier(parts, {"version": "cv"})
        c, a, k, _ = model.scores([texts[i] for i in test], vectors[test])
        oof_complaint[test], oof_at_least[test] = c, a
        classes = list(parts["category"].classes_)
        for j, name in enumerate(CATEGORIES):
            if name in classes:
                oof_category[test, j] = k[:, classes.index(name)]
        finished += 1
        if progress:
            progress("cross-validating", finished, folds)

    if progress:
        progress("cross-validating", 0, folds)
    # liblinear releases the GIL: folds in threads use every core without copying the data.
    pool = ThreadPoolExecutor(max_workers=min(folds, os.cpu_count() or 1))
    try:
        list(pool.map(fold, splits))
    except BaseException:  # Ctrl-C: folds not started never start, running ones stop at their next fit
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return {
        "ids": [r.get("id") for r in records],
        "sources": [source_of(r) for r in records],
        "complaint_true": complaint.tolist(),
        "severity_true": severity,
        "category_true": category,
        "complaint_p": oof_complaint.round(5).tolist(),
        "severity_at_least": oof_at_least.round(5).tolist(),
        "category_p": oof_category.round(5).tolist(),
    }


def figures(oof: dict, thresholds: Thresholds = Thresholds()) -> dict:
    """Precision, recall and F1 of each head from out-of-fold predictions, also per source."""
    complaint_true = np.array(oof["complaint_true"])
    complaint_pred = (np.array(oof["complaint_p"]) >= thresholds.complaint).astype(int)
    rated = [i for i, (t, s) in enumerate(zip(complaint_true, oof["severity_true"])) if t and s in SEVERITIES]
    at_least = np.array(oof["severity_at_least"])
    named = [i for i, (t, c) in enumerate(zip(complaint_true, oof["category_true"])) if t and c in CATEGORIES]
    category_p = np.array(oof["category_p"])
    sources = oof.get("sources") or ["corpus"] * len(complaint_true)
    by_source = {}
    for source in sorted(set(sources)):
        rows = [i for i, s in enumerate(sources) if s == source]
        by_source[source] = head_metrics(complaint_true[rows].tolist(), complaint_pred[rows].tolist(), [0, 1])
    return {
        "complaint": head_metrics(complaint_true.tolist(), complaint_pred.tolist(), [0, 1]),
        "severity": head_metrics([oof["severity_true"][i] for i in rated],
                                 [severity_from(at_least[i], thresholds) for i in rated], list(SEVERITIES)),
        "category": head_metrics([oof["category_true"][i] for i in named],
                                 [CATEGORIES[int(np.argmax(category_p[i]))] for i in named], list(CATEGORIES)),
        "by_source": by_source,
        "records": len(complaint_true),
    }


def train(records: list[dict], model_dir: Path, folds: int = 5, progress: Progress | None = None,
          cache: Path | None = None) -> Classifier:
    """Cross-validate, fit on everything, and save a new version (not yet active)."""
    records = sorted(records, key=lambda r: str(r.get("id")))
    data = _labels(records)
    vectors = encode(data.texts, cache or model_dir / "encodings.sqlite", progress)
    oof = cross_validate(records, data, vectors, folds, progress)
    if progress:
        progress("final model", 0, 1)
    parts = fit_parts(data.texts, vectors, *data[1:])
    digest = data_hash(records)
    version = f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{digest[:8]}"
    meta = {
        "version": version,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sklearn_version": sklearn.__version__,
        "data_sha256": digest,
        "records": len(records),
        "sources": dict(Counter(map(source_of, records))),
        "seed": SEED,
        "folds": folds,
        "metrics": figures(oof),
    }
    classifier = Classifier(parts, meta)
    path = model_dir / version
    classifier.save(path)
    (path / "oof.json").write_text(json.dumps(oof))
    if progress:
        progress("final model", 1, 1)
    return classifier
