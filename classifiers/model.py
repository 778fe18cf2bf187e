"""The trained classifier: load it safely, and turn text into a ``Classification``.

A model is a directory ``<model_dir>/<version>/`` holding ``model.skops`` (the fitted
scikit-learn objects, loaded with skops so loading cannot run arbitrary code) and
``meta.json`` (metrics, training-data hash, scikit-learn version, the SHA-256 of the model
file and of the sentence encoder it was trained with). ``ACTIVE`` in the model directory names
the version in use. A model whose file or encoder differs from what its metadata recorded is
refused: its heads would read vectors they were not trained on.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import sklearn
import skops.io as sio
from scipy import sparse
from skops.io.exceptions import UntrustedTypesFoundException
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from worker.errors import ModelError

from .encoder import DIMENSIONS, Encoder, file_sha256
from .labels import (  # noqa: F401  (re-exported for callers that already load the model)
    CATEGORIES,
    SEVERITIES,
    Classification,
    Thresholds,
    activate,
    message_text,
    model_dir_version,
)
from .praise import praise
from .rules import critical_hits

# Our own functions inside the pipeline: the only non-library code a model file may name.
TRUSTED = ["classifiers.features.dense_features", "classifiers.features.normalise"]


MAX_CHARS = 20_000  # beyond this a message says nothing more a classifier can use

_TOKENS = {"_money_": "<amount>", "_span_": "<time span>", "_ref_": "<reference>",
           "_handle_": "<@handle>", "_link_": "<link>"}


def _display(ngram: str) -> str:
    return " ".join(_TOKENS.get(t, t) for t in ngram.split())


def combine(words, vectors: np.ndarray) -> sparse.csr_matrix:
    """The heads' input: TF-IDF columns first (so reasons can index them), then the vector."""
    return sparse.hstack([words, sparse.csr_matrix(vectors)], format="csr")


def ordinal_probabilities(at_least: np.ndarray) -> np.ndarray:
    """From P(severity > low), P(> medium), P(> high) per row to P(each level).

    The three heads are trained apart, so their outputs may cross; taking the running minimum
    keeps P(>= k) non-increasing and the four probabilities non-negative.
    """
    cumulative = np.minimum.accumulate(at_least, axis=1)
    ones = np.ones((cumulative.shape[0], 1))
    zeros = np.zeros((cumulative.shape[0], 1))
    bounds = np.hstack([ones, cumulative, zeros])
    return bounds[:, :-1] - bounds[:, 1:]


def severity_from(at_least: np.ndarray, thresholds: Thresholds, chars: int = 0) -> str:
    """The highest level whose P(severity >= level) clears its cut-off (the email cut-offs for
    a text of ``chars`` characters or more)."""
    cumulative = np.minimum.accumulate(at_least)
    level = "low"
    for name, p, cut in zip(SEVERITIES[1:], cumulative, thresholds.severity_cuts(chars)):
        if p >= cut:
            level = name
        else:
            break
    return level


class Classifier:
    def __init__(self, parts: dict, meta: dict, encoder: Encoder | None = None) -> None:
        self.parts = parts
        self.meta = meta
        self.version: str = meta["version"]
        self.encoder = encoder or Encoder()
        union = parts["union"]
        words = union.transformer_list[0][1]
        self._word_names = np.array(words.get_feature_names_out(), dtype=object)
        self._n_words = len(self._word_names)
        # Reasons name words a reviewer can judge: no n-gram made only of stop words.
        self._readable = np.array(
            [any(t not in ENGLISH_STOP_WORDS for t in name.split()) for name in self._word_names], dtype=bool
        )

    # -- files ------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> "Classifier":
        meta_path, model_path = path / "meta.json", path / "model.skops"
        try:
            meta = json.loads(meta_path.read_text())
        except FileNotFoundError:
            raise ModelError(f"no model at {path}: run `amends train`") from None
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read {meta_path}: {exc}") from None
        if not isinstance(meta, dict) or "version" not in meta:
            raise ModelError(f"{meta_path} is not a model's metadata: run `amends train`")
        built = meta.get("sklearn_version")
        if built != sklearn.__version__:
            raise ModelError(
                f"model {meta.get('version')} was built with scikit-learn {built}, but "
                f"{sklearn.__version__} is installed: run `amends train` to rebuild it"
            )
        encoder = Encoder()
        expected = (meta.get("encoder") or {}).get("sha256")
        if expected != encoder.sha256:
            raise ModelError(f"model {meta['version']} was trained with another sentence encoder than the one "
                             "installed: run `amends train` to rebuild it")
        try:
            if file_sha256(model_path) != meta.get("model_sha256"):
                raise ModelError(f"{model_path} is not the file model {meta['version']} saved (SHA-256 differs): "
                                 "it was changed or damaged; run `amends train`")
            parts = sio.load(model_path, trusted=TRUSTED)
        except UntrustedTypesFoundException as exc:
            raise ModelError(f"model file {model_path} names code Amends does not trust: {exc}") from None
        except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise ModelError(f"cannot read model file {model_path}: {exc}") from None
        try:
            words = parts["union"].transformer_list[0][1]
            words.vocabulary_ = {term: i for i, term in enumerate(parts.pop("word_terms").tolist())}
            classifier = cls(parts, meta, encoder)
        except (AttributeError, IndexError, KeyError, TypeError) as exc:
            raise ModelError(f"{model_path} does not hold an Amends model ({exc}): run `amends train`") from None
        encoder.warm_up()
        return classifier

    def save(self, path: Path) -> None:
        """Write model and metadata; the word vocabulary goes in as one array, not a dict of
        30,000 nodes, which is what makes loading fast."""
        path.mkdir(parents=True, exist_ok=True)
        for folder in (path.parent, path):  # models learn from customers' words: only their owner reads them
            folder.chmod(0o700)
        words = self.parts["union"].transformer_list[0][1]
        if hasattr(words, "stop_words_"):
            del words.stop_words_  # every pruned n-gram; sklearn documents it as safe to drop
        vocabulary = words.vocabulary_
        terms = np.empty(len(vocabulary), dtype=object)
        for term, index in vocabulary.items():
            terms[index] = term
        del words.vocabulary_
        try:
            sio.dump(dict(self.parts, word_terms=terms.astype(str)), path / "model.skops",
                     compression=zipfile.ZIP_DEFLATED)
        finally:
            words.vocabulary_ = vocabulary
        self.meta["model_sha256"] = file_sha256(path / "model.skops")
        self.meta["encoder"] = {"file": self.encoder.model_file.name, "sha256": self.encoder.sha256,
                                "max_tokens": self.encoder.max_tokens}
        (path / "meta.json").write_text(json.dumps(self.meta, indent=2))

    # -- predicting ---------------------------------------------------------------------------

    def probabilities(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, object]:
        """Raw head outputs: P(complaint), P(severity > level) x3, P(category), and features."""
        return self.scores(texts, self.encoder.encode(texts))

    def scores(self, texts: list[str], vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, object]:
        X = combine(self.parts["union"].transform(texts), vectors)
        complaint = self.parts["complaint"].predict_proba(X)[:, 1]
        at_least = np.column_stack([head.predict_proba(X)[:, 1] for head in self.parts["severity"]])
        category = self.parts["category"].predict_proba(X)
        return complaint, at_least, category, X

    def _reasons(self, row: tuple[np.ndarray, np.ndarray], head, sign: float, limit: int = 4) -> list[str]:
        """The word n-grams that pushed this head's decision hardest, for reviewers."""
        indices, values = row
        keep = indices < self._n_words
        indices, values = indices[keep], values[keep]
        keep = self._readable[indices]
        indices, values = indices[keep], values[keep]
        if len(indices) == 0:
            return []
        contributions = values * head.coef_[0][indices] * sign
        order = np.argsort(-contributions)[:limit]
        return [_display(self._word_names[indices[i]]) for i in order if contributions[i] > 0]

    @staticmethod
    def _meaning_led(row: tuple[np.ndarray, np.ndarray], head, width: int) -> bool:
        """Whether the sentence vector pushed towards "complaint" more than all the words did."""
        indices, values = row
        contributions = values * head.coef_[0][indices]
        vector = contributions[indices >= width - DIMENSIONS].sum()
        return vector > 0 and vector > contributions[indices < width - DIMENSIONS].sum()

    def classify_many(self, texts: list[str], thresholds: Thresholds) -> list[Classification]:
        if not texts:
            return []
        texts = [text[:MAX_CHARS] for text in texts]  # bounded work per message, rules included
        complaint_p, at_least, category_p, X = self.probabilities(texts)
        X = X.tocsr()
        categories = self.parts["category"].classes_
        results = []
        for i, text in enumerate(texts):
            row = (X.indices[X.indptr[i] : X.indptr[i + 1]], X.data[X.indptr[i] : X.indptr[i + 1]])
            hits = critical_hits(text)
            p = float(complaint_p[i])
            praised = None if hits else praise(text)
            is_complaint = not praised and (p >= thresholds.complaint or (bool(hits) and p >= thresholds.rule_floor))
            if praised:
                results.append(Classification(False, round(p, 4), None, None, None, None,
                                              [f"praise, not a complaint: {praised!r}"], self.version, praise=True))
                continue
            if not is_complaint:
                words = self._reasons(row, self.parts["complaint"], -1.0)
                results.append(Classification(
                    False, round(p, 4), None, None, None, None,
                    [f"not a complaint: {', '.join(words)}"] if words else [], self.version,
                ))
                continue
            levels = ordinal_probabilities(at_least[i : i + 1])[0]
            severity = severity_from(at_least[i], thresholds, len(text))
            reasons = []
            words = self._reasons(row, self.parts["complaint"], 1.0)
            if words:
                reasons.append(f"complaint: {', '.join(words)}")
            if self._meaning_led(row, self.parts["complaint"], X.shape[1]):
                reasons.append("complaint: what the message says as a whole (sentence meaning), more than its words")
            head = self.parts["severity"][max(0, SEVERITIES.index(severity) - 1)]
            sev_words = self._reasons(row, head, 1.0 if severity != "low" else -1.0, 3)
            if sev_words:
                reasons.append(f"{severity}: {', '.join(sev_words)}")
            if hits:
                severity = "critical"
                reasons.extend(f"critical by rule: {name} ({found!r})" for name, found in hits)
            if p < thresholds.complaint:
                reasons.append(f"complaint by rule although P={p:.2f} is under the threshold")
            order = np.argsort(-category_p[i])
            category = str(categories[order[0]])
            if category_p[i][order[0]] < thresholds.category_floor and category != "other" and "other" in categories:
                guesses = ", ".join(f"{categories[k]} {category_p[i][k]:.2f}" for k in order[:2])
                reasons.append(f"category unsure ({guesses}): drafted as other; correct it if you know")
                category = "other"
            results.append(Classification(
                True, round(p, 4), severity,
                {name: round(float(v), 4) for name, v in zip(SEVERITIES, levels)},
                category,
                {str(c): round(float(v), 4) for c, v in zip(categories, category_p[i])},
                reasons, self.version, [name for name, _ in hits],
            ))
        return results

    def classify(self, subject: str | None, body: str | None, thresholds: Thresholds) -> Classification:
        return self.classify_many([message_text(subject, body)], thresholds)[0]


def load_active(model_dir: Path) -> Classifier:
    version = model_dir_version(model_dir)
    if version is None:
        raise ModelError(f"no active model in {model_dir}: run `amends train`")
    return Classifier.load(model_dir / version)
