"""The sentence encoder that ships with Amends, its cache, and a new model reaching a running worker."""

import json
import logging
import time

import numpy as np
import pytest

from classifiers.encoder import DIMENSIONS, Encoder, EncodingCache
from classifiers.labels import activate, model_dir_version
from classifiers.train import CORPUS, read_jsonl, train
from worker.desk.detect import ActiveModel


@pytest.fixture(scope="module")
def encoder():
    return Encoder()


def test_vectors_are_unit_length_and_the_same_whatever_comes_with_them(encoder):
    texts = ["My parcel never arrived.", "", "Thanks, all sorted! " * 30]
    first = encoder.encode(texts)
    assert first.shape == (3, DIMENSIONS) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1, atol=1e-3)
    alone = np.vstack([encoder.encode([text]) for text in texts])
    np.testing.assert_array_equal(first, alone)


def test_meaning_is_near_across_different_words(encoder):
    parcel, package, thanks = encoder.encode([
        "my parcel still hasn't turned up and the tracking is stuck",
        "the package never arrived, tracking hasn't moved in a week",
        "thank you so much, lovely service as always",
    ])
    assert parcel @ package > parcel @ thanks + 0.3


def test_a_huge_message_costs_no_more_than_its_first_tokens(encoder):
    short = "The app crashes every time I open it. " * 20
    started = time.perf_counter()
    encoder.encode([short])
    one = time.perf_counter() - started
    started = time.perf_counter()
    vector = encoder.encode([short * 5000])  # 3.8 MB of text
    assert time.perf_counter() - started < one * 5 + 0.5
    np.testing.assert_allclose(vector, encoder.encode([short]), atol=1e-5)


def test_the_cache_encodes_each_text_once(tmp_path):
    calls = []

    class Counting(Encoder):
        def encode(self, texts, progress=None):
            calls.append(list(texts))
            return super().encode(texts, progress)

    cache = EncodingCache(tmp_path / "cache.sqlite", Counting())
    first = cache.encode(["late again", "all good", "late again"])
    second = cache.encode(["all good", "new text", "late again"])
    assert calls == [["late again", "all good"], ["new text"]]
    np.testing.assert_array_equal(first[1], second[0])
    np.testing.assert_array_equal(first[0], first[2])


@pytest.fixture(scope="module")
def second_model(model_dir, encodings_cache):
    """Another version in the session's model directory, trained on a slice of the corpus."""
    records = [r for i, r in enumerate(read_jsonl([CORPUS])) if i % 10 == 0]
    model = train(records, model_dir, folds=2, cache=encodings_cache)
    yield model
    activate(model_dir, model_dir_version(model_dir))


def test_a_running_worker_switches_to_a_newly_activated_model(make_config, store, model_dir, second_model, caplog):
    from worker.loop import Worker

    first = model_dir_version(model_dir)
    config = make_config(f'[classifier]\nmodel_dir = "{model_dir}"\n')
    worker = Worker(config, store)
    assert worker.classifier.version == first
    loaded = worker.classifier
    assert worker.classifier is loaded  # asking again loads nothing
    with caplog.at_level(logging.INFO, logger="worker.desk.detect"):
        activate(model_dir, second_model.version)
        assert worker.classifier.version == second_model.version
        assert f"classifier model {second_model.version} replaces {first}" in caplog.text
        activate(model_dir, first)
        assert worker.classifier.version == first


def test_a_model_that_fails_to_load_leaves_the_current_one_in_use(make_config, model_dir, second_model, caplog):
    first = model_dir_version(model_dir)
    active = ActiveModel(make_config(f'[classifier]\nmodel_dir = "{model_dir}"\n'))
    assert active.get().version == first
    meta_path = model_dir / second_model.version / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps(dict(meta, sklearn_version="0.1")))
    try:
        with caplog.at_level(logging.ERROR, logger="worker.desk.detect"):
            activate(model_dir, second_model.version)
            assert active.get().version == first
            assert active.get().version == first
        assert caplog.text.count(f"still classifying with model {first}") == 1
    finally:
        meta_path.write_text(json.dumps(meta))
        activate(model_dir, first)
