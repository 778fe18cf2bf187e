"""Scoring a model on labelled records as Amends decides (rules included): one place, used by
`amends evaluate` and by `amends retrain` to compare an old and a new model fairly."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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


def evaluate_records(classifier, records: Iterable[dict], thresholds: Thresholds) -> Evaluation:
    truth: dict[str, list] = {"complaint": [], "severity": [], "category": []}
    results = []
    chunk: list[dict] = []

    def flush() -> None:
        results.extend(classifier.classify_many([record_text(r) for r in chunk], thresholds))
        chunk.clear()

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
    figures = {"complaint": metrics.head_metrics(y, [int(r.complaint) for r in results], [0, 1])}
    both = [i for i, t in enumerate(y) if t and results[i].complaint]
    sev = [i for i in both if truth["severity"][i] in SEVERITIES]
    figures["severity"] = metrics.head_metrics(
        [truth["severity"][i] for i in sev], [results[i].severity for i in sev], list(SEVERITIES))
    cat = [i for i in both if truth["category"][i] in CATEGORIES]
    figures["category"] = metrics.head_metrics(
        [truth["category"][i] for i in cat], [results[i].category for i in cat], list(CATEGORIES))
    return Evaluation(figures, y, [r.complaint_probability for r in results])
