"""Which representation carries over to text the model never saw? Figures held out by source.

    python -m classifiers.compare --data ../shared/data/complaints-dev/tweets.jsonl \
        --data classifiers/data/handwritten.jsonl [--json figures.json]

For each representation (TF-IDF words and characters, sentence vectors, both) the complaint
head is trained twice over: on every shipped source but one and scored on the one left out
(leave-one-source-out), and on every shipped source and scored on each ``--data`` file, which
must never be trained on. This is how the shipped representation was chosen; SOURCES.md has
the figures. Sentence vectors come from the same cache as training, so a second run is quick.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score

from .features import vectorizer
from .model import combine
from .train import COMPLAINT_C, TRAINING_DATA, _linear, encode, read_jsonl, record_text

REPRESENTATIONS = ("tfidf", "sentence", "both")


def _features(representation: str, union, texts: list[str], vectors: np.ndarray, fit: bool = False):
    if representation == "sentence":
        return vectors
    words = union.fit_transform(texts) if fit else union.transform(texts)
    return words if representation == "tfidf" else combine(words, vectors)


def score(representation: str, train: tuple[list[str], np.ndarray, np.ndarray],
          tests: dict[str, tuple[list[str], np.ndarray, np.ndarray]]) -> dict[str, dict]:
    texts, vectors, y = train
    union = vectorizer()
    head = _linear(COMPLAINT_C).fit(_features(representation, union, texts, vectors, fit=True), y)
    out = {}
    for name, (test_texts, test_vectors, truth) in tests.items():
        p = head.predict_proba(_features(representation, union, test_texts, test_vectors))[:, 1]
        both = 0 < truth.sum() < len(truth)
        out[name] = {
            "macro_f1": round(float(f1_score(truth, p >= 0.5, average="macro")), 3),
            "auc": round(float(roc_auc_score(truth, p)), 3) if both else None,
            "predicted_share": round(float((p >= 0.5).mean()), 3),
            "true_share": round(float(truth.mean()), 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", action="append", type=Path, default=[], help="held-out JSONL (repeatable)")
    parser.add_argument("--cache", type=Path, default=Path("var/models/encodings.sqlite"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    by_source: dict[str, list[dict]] = {}
    for record in read_jsonl(TRAINING_DATA):
        by_source.setdefault(record.get("source") or "corpus", []).append(record)
    external = {path.stem: list(read_jsonl([path])) for path in args.data}

    def view(records: list[dict]) -> tuple[list[str], np.ndarray, np.ndarray]:
        texts = [record_text(r) for r in records]
        return texts, encode(texts, args.cache), np.array([int(bool(r["complaint"])) for r in records])

    views = {name: view(records) for name, records in {**by_source, **external}.items()}
    sources = list(by_source)

    def pooled(names: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
        return ([t for n in names for t in views[n][0]], np.vstack([views[n][1] for n in names]),
                np.concatenate([views[n][2] for n in names]))

    figures: dict[str, dict] = {}
    for representation in REPRESENTATIONS:
        row = score(representation, pooled(sources), {n: views[n] for n in external})
        for held in sources:
            if 0 < views[held][2].sum() < len(views[held][2]):  # a one-class source has no F1 to speak of
                row.update(score(representation, pooled([s for s in sources if s != held]), {held: views[held]}))
        figures[representation] = row
        for name, f in row.items():
            kind = "never trained on" if name in external else "left out"
            print(f"{representation:8s} {name:12s} ({kind:16s}) macro-F1 {f['macro_f1']:.3f}  AUC {f['auc']}  "
                  f"predicted {f['predicted_share']:.1%} (truly {f['true_share']:.1%})", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
