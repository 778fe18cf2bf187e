"""The Detect stage: classify each stored message from a person, once, and keep the result.

The classifier itself is pure (``classifiers/``); this stage feeds it stored messages, adds
what only the store knows (earlier complaints from the same customer) and records the
outcome with the model version and thresholds used, so every decision can be explained later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

from typing import TYPE_CHECKING

from classifiers.escalation import escalate
from classifiers.labels import Thresholds, message_text, model_dir_version

if TYPE_CHECKING:
    from classifiers.model import Classifier

from ..config import Config
from ..errors import ModelError
from ..store import Store, iso

log = logging.getLogger(__name__)


THRESHOLD_KEYS = {"complaint": "complaint_threshold", "medium": "severity_medium", "high": "severity_high",
                  "critical": "severity_critical", "rule_floor": "rule_floor", "email_from_chars": "email_from_chars",
                  "email_medium": "email_severity_medium", "email_high": "email_severity_high",
                  "email_critical": "email_severity_critical", "category_floor": "category_floor"}


def thresholds_of(config: Config, store: Store | None = None) -> Thresholds:
    """Config values, overridden by what an admin chose on the thresholds page (read each
    time, so a change takes effect without a restart)."""
    values = {field: getattr(config.classifier, key) for field, key in THRESHOLD_KEYS.items()}
    if store is not None:
        for key, value in store.settings("classifier.").items():
            field = next((f for f, k in THRESHOLD_KEYS.items() if f"classifier.{k}" == key), None)
            if field:
                values[field] = int(value) if field == "email_from_chars" else float(value)
    return Thresholds(**values)


def load_classifier(config: Config) -> "Classifier":
    model_dir = Path(config.classifier.model_dir)
    if model_dir_version(model_dir) is None:  # say so before paying for the scikit-learn import
        raise ModelError(f"no active model in {model_dir}: run `amends train`")
    from classifiers.model import load_active

    return load_active(model_dir)


class ActiveModel:
    """The model ``ACTIVE`` names, switched as soon as ``ACTIVE`` names another one.

    `amends model activate` and `amends retrain` only rewrite that file; a long-running
    process asks this object before each batch (one small file read) and loads the new version
    then. A version that fails to load is logged once and the one in use stays.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.model_dir = Path(config.classifier.model_dir)
        self.current: "Classifier | None" = None
        self._refused: str | None = None

    def get(self) -> "Classifier":
        """The active model; ModelError when there is none that loads."""
        version = model_dir_version(self.model_dir)
        if self.current is not None and version in (self.current.version, self._refused):
            return self.current
        try:
            loaded = load_classifier(self.config)
        except ModelError as exc:
            if self.current is None:
                raise
            self._refused = version
            log.error("%s; still classifying with model %s", exc, self.current.version)
            return self.current
        if self.current is not None:
            log.info("classifier model %s replaces %s (ACTIVE changed)", loaded.version, self.current.version)
        else:
            log.info("classifier model %s loaded", loaded.version)
        self.current, self._refused = loaded, None
        return loaded


def classify_rows(store: Store, classifier: "Classifier", config: Config, rows: list[dict], now: datetime) -> int:
    thresholds = thresholds_of(config, store)
    texts = [message_text(r["subject"], r["new_text"] or r["text"]) for r in rows]
    window = config.classifier.repeat_window_days
    for row, result in zip(rows, classifier.classify_many(texts, thresholds)):
        earlier = chasers = 0
        if result.complaint and row["from_addr"] and window:
            received = datetime.fromisoformat(row["date"]) if row["date"] else now
            earlier = store.earlier_cases(row["from_addr"], iso(received - timedelta(days=window)), row["id"],
                                          row["conversation_id"])
        if result.complaint:
            chasers = store.earlier_in_case(row["conversation_id"], row["id"])
        result = escalate(result, earlier, window, row["from_addr"], config.classifier.vip_domains, chasers)
        store.save_classification(row["id"], result.to_json(), asdict(thresholds), now)
        if result.complaint and result.severity in ("high", "critical"):
            log.info("message %s: %s %s complaint (P=%.2f)", row["id"], result.severity, result.category,
                     result.complaint_probability)
    return len(rows)


def classify_pending(store: Store, classifier: "Classifier", config: Config, now: datetime,
                     progress: Callable[[str, int, int], None] | None = None) -> int:
    """Classify every message that needs it, oldest first, in chunks; ``progress`` hears how
    far it has got (a first import classifies years of mail)."""
    done, total = 0, store.count_unclassified() if progress else 0
    while rows := store.unclassified(limit=500):
        done += classify_rows(store, classifier, config, rows, now)
        if progress:
            progress("Classifying", done, max(total, done))
    return done
