"""Scoring a model on labelled records as Amends decides (rules included): one place, used by
`amends evaluate` and by `amends retrain` to compare an old and a new model fairly."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from . import metrics
from .labels import CATEGORIES, SEVERITIES, Thresholds
from .train import record_text

CHUNK = 512


@dataclass
class Evaluation:
    figures: dict
    truth: list[int]
    scores: list[float]

    @property
    def summary(self) -> float:
        """One number to compare models: the mean of the three heads' F1."""
        f = self.figures
        return round((f["complaint"]["f1"] + f["severity"].get("macro_f1", 0) + f["category"].get("macro_f1", 0)) / 3, 4)


def _severity_rank(value) -> int | None:
    """Our names as 1-4 (low-critical); a 0-4 scale as it is; anything else as unknown."""
    if value in SEVERITIES:
        return SEVERITIES.index(value) + 1
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 4:
        return int(value)
    return None


def evaluate_records(classifier, records: Iterable[dict], thresholds: Thresholds,
                     progress: Callable[[int], None] | None = None) -> Evaluation:
    """``progress`` is told how many records are classified so far, after each chunk."""
    truth: dict[str, list] = {"complaint": [], "severity": [], "category": []}
    results = []
    chunk: list[dict] = []

    def flush() -> None:
        results.extend(classifier.classify_many([record_text(r) for r in chunk], thresholds))
        chunk.clear()
        if progress:
            progress(len(results))

    for record in records:
        if "complaint" not in record:
            raise ValueError(f'record {record.get("id")} has no "complaint" label')
        truth["complaint"].append(int(bool(record["complaint"])))
        truth["severity"].append(record.get("severity"))
        truth["category"].append(record.get("category"))
        chunk.append(record)
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    y = truth["complaint"]
    scores = [r.complaint_probability for r in results]
    complaint = metrics.head_metrics(y, [int(r.complaint) for r in results], [0, 1])
    if y:
        complaint["predicted_share"] = round(sum(r.complaint for r in results) / len(y), 4)
        complaint["true_share"] = round(sum(y) / len(y), 4)
        complaint["auc"] = round(float(roc_auc_score(y, scores)), 4) if 0 < sum(y) < len(y) else None
    figures = {"complaint": complaint}
    both = [i for i, t in enumerate(y) if t and results[i].complaint]
    sev = [i for i in both if truth["severity"][i] in SEVERITIES]
    figures["severity"] = metrics.head_metrics(
        [truth["severity"][i] for i in sev], [results[i].severity for i in sev], list(SEVERITIES))
    # Severity as an order over every record: not a complaint 0, then low 1 ... critical 4.
    ranked = [(rank, SEVERITIES.index(r.severity) + 1 if r.complaint else 0)
              for rank, r in zip(map(_severity_rank, truth["severity"]), results) if rank is not None]
    if len({t for t, _ in ranked}) > 1 and len({p for _, p in ranked}) > 1:
        figures["severity"]["spearman"] = round(float(spearmanr(*zip(*ranked))[0]), 4)
        figures["severity"]["spearman_n"] = len(ranked)
    critical = [i for i, s in enumerate(truth["severity"]) if s == "critical"]
    if critical:
        figures["severity"]["critical_recall"] = round(
            sum(results[i].severity == "critical" for i in critical) / len(critical), 4)
        figures["severity"]["critical_n"] = len(critical)
    cat = [i for i in both if truth["category"][i] in CATEGORIES]
    figures["category"] = metrics.head_metrics(
        [truth["category"][i] for i in cat], [results[i].category for i in cat], list(CATEGORIES))
    return Evaluation(figures, y, scores)
