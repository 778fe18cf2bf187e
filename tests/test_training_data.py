"""The shipped training data: real sets labelled by the rubric, as SOURCES.md describes them."""

import importlib.util
import re
import sys

import pytest

from classifiers.labels import CATEGORIES, SEVERITIES
from classifiers.train import DATA, TRAINING_DATA, read_jsonl

from .conftest import ROOT

REAL = sorted((DATA / "real").glob("*.jsonl"))


def _build_real():
    spec = importlib.util.spec_from_file_location("build_real", DATA / "build_real.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_real"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.stem)
def test_real_records_follow_the_rubric(path):
    ids = set()
    for r in read_jsonl([path]):
        assert r["text"].strip() and r["source"] == path.stem and r["group"].startswith(f"{path.stem}:")
        assert r["id"] not in ids
        ids.add(r["id"])
        if r["complaint"]:
            assert r["severity"] in (None, *SEVERITIES) and r["category"] in (None, *CATEGORIES)
        else:
            assert r["severity"] is None and r["category"] is None


def test_every_source_is_in_training_and_counted_in_sources_md():
    assert set(REAL) < set(TRAINING_DATA)
    table = (DATA / "SOURCES.md").read_text()
    for path in REAL:
        records = list(read_jsonl([path]))
        row = next(line for line in table.splitlines() if f"`real/{path.name}`" in line)
        counts = [int(n.replace(",", "")) for n in re.findall(r"\|\s*([\d,]+)\s*(?=\|)", row)]
        assert counts[-2:] == [len(records), sum(r["complaint"] for r in records)], path.name


def test_intent_tables_never_label_one_intent_two_ways():
    build = _build_real()
    assert not set(build.BANKING77_COMPLAINTS) & build.BANKING77_QUESTIONS
    banking = list(read_jsonl([DATA / "real" / "banking77.jsonl"]))
    intents = {r["group"].split(":", 1)[1] for r in banking}
    assert intents == set(build.BANKING77_COMPLAINTS) | build.BANKING77_QUESTIONS
    for r in banking:
        intent = r["group"].split(":", 1)[1]
        assert r["complaint"] == (intent in build.BANKING77_COMPLAINTS)
        if r["complaint"]:
            assert (r["category"], r["severity"]) == build.BANKING77_COMPLAINTS[intent]


def test_the_development_tweets_are_never_training_data():
    dev = ROOT.parent / "shared" / "data" / "complaints-dev" / "tweets.jsonl"
    if not dev.exists():
        pytest.skip("the development set is not beside this checkout")

    def words(text: str) -> str:
        return " ".join(re.findall(r"\w+", text.lower()))

    tweets = {words(r["text"]) for r in read_jsonl([dev])}
    leaked = [r["id"] for r in read_jsonl(TRAINING_DATA) if words(r.get("text") or r.get("body") or "") in tweets]
    assert leaked == []


def test_ctrl_c_during_cross_validation_stops_at_the_next_fit_not_after_every_fold():
    """Folds not started never start, and a running one stops before its next head."""
    import os

    import numpy as np

    from classifiers.encoder import DIMENSIONS
    from classifiers.train import _labels, cross_validate

    words = ["late parcel", "charged twice", "broken screen", "rude driver", "app down", "locked out"]
    records = [{"id": f"r{i}", "text": f"my {words[i % 6]} again number {i}", "complaint": i % 3 != 0,
                "severity": ["low", "medium", "high", "critical"][i % 4] if i % 3 else None,
                "category": ["delivery", "billing", "defect", "staff", "outage", "account"][i % 6] if i % 3 else None}
               for i in range(120)]
    vectors = np.random.default_rng(1).normal(size=(len(records), DIMENSIONS)).astype(np.float32)
    finished = []

    def progress(stage, done, total):
        if done:
            finished.append(done)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cross_validate(records, _labels(records), vectors, folds=5, progress=progress)
    assert 1 <= len(finished) <= max(1, min(4, os.cpu_count() or 1))  # before: all five folds ran to the end
