"""The classifier: complaints, severity, category, reasons, rules, thresholds, model files."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from classifiers.encoder import file_sha256
from classifiers.escalation import escalate
from classifiers.labels import activate, model_dir_version
from classifiers.model import Classifier, Thresholds, ordinal_probabilities, severity_from
from classifiers.rules import critical_hits
from classifiers.train import CORPUS, read_jsonl, train
from worker.errors import ModelError
from worker.mail.parse import parse_message

from .conftest import eml

T = Thresholds()


def verdict(classifier, text, subject=""):
    return classifier.classify(subject, text, T)


@pytest.mark.parametrize("name, category", [
    ("gmail_complaint_delivery.eml", "delivery"),
    ("base64_body.eml", "billing"),
    ("outlook_reply_original_message.eml", "billing"),
    ("iphone_reply.eml", None),
    ("signature_dashdash.eml", None),
    ("html_only.eml", None),
])
def test_complaint_fixtures_are_complaints(classifier, name, category):
    msg = parse_message(eml(name))
    result = classifier.classify(msg.subject, msg.new_text, T)
    assert result.complaint, (name, result)
    assert result.severity in ("low", "medium", "high", "critical")
    if category:
        assert result.category == category


@pytest.mark.parametrize("name", ["praise.eml", "question.eml"])
def test_questions_and_praise_are_not_complaints(classifier, name):
    msg = parse_message(eml(name))
    result = classifier.classify(msg.subject, msg.new_text, T)
    assert not result.complaint and result.severity is None and result.category is None


@pytest.mark.parametrize("text, colleague", [
    ("Just wanted to say thank you. The sofa was late but Priya on your delivery desk was wonderful and sorted it.",
     None),  # "late", "but": a problem the praise wraps, so not praise
    ("Just a note to say Priya was wonderful on the phone yesterday. Please pass on our thanks!", "Priya"),
    ("Thank you so much to Marco at the Leeds branch, who went above and beyond to find my size.", "Marco"),
])
def test_praise_is_its_own_label_and_never_a_complaint(classifier, text, colleague):
    from classifiers.praise import praised_colleague

    result = classifier.classify("Thank you", text, T)
    if colleague is None:
        assert not result.praise  # a complaint is never dismissed as praise
        return
    assert result.praise and not result.complaint and result.severity is None
    assert result.reasons and result.reasons[0].startswith("praise, not a complaint")
    assert praised_colleague(text) == colleague


@pytest.mark.parametrize("text", [
    "Thank you so much for making a box that shreds apart even when carried by both handles",  # sarcasm
    "Thanks so much, the team was brilliant, but the refund still hasn't arrived.",
    "Just wanted to say my daughter was injured by the toy you sold us; the staff were lovely though.",
])
def test_praise_that_wraps_a_problem_stays_a_complaint(text):
    from classifiers.praise import praise

    assert praise(text) is None


@pytest.mark.parametrize("text", [
    "Could you tell me your opening hours over Christmas?",
    "No problem at all, it arrived this morning. Thanks for sorting it!",
    "Please cancel my broadband from next month, we're moving abroad. Thanks for everything.",
    "Please find attached invoice INV-2026-4410 for October.",
])
def test_hard_non_complaints(classifier, text):
    assert not verdict(classifier, text).complaint


@pytest.mark.parametrize("text, at_least", [
    ("Hi, one of the mugs has a tiny chip. Not a big deal, just letting you know.", "low"),
    ("My order is two weeks late and nobody answers my emails. Very disappointed.", "medium"),
    ("Third time this year you've sent the wrong size. I'm closing my account.", "high"),
])
def test_severity_follows_the_rubric(classifier, text, at_least):
    result = verdict(classifier, text)
    assert result.complaint
    order = ["low", "medium", "high", "critical"]
    assert order.index(result.severity) >= order.index(at_least), result
    if at_least == "low":
        assert result.severity == "low"


@pytest.mark.parametrize("text, rule", [
    ("Your heater sparked and burned my hand. Not acceptable.", "injury or safety"),
    ("The parcel is late again. My solicitor will be in touch.", "legal threat"),
    ("Your portal showed me another customer's orders and address.", "data breach"),
    ("I'm reporting this to the ombudsman.", "regulator or press"),
])
def test_rules_make_it_critical_and_say_why(classifier, text, rule):
    result = verdict(classifier, text)
    assert result.complaint and result.severity == "critical"
    assert rule in result.rules
    assert any(r.startswith(f"critical by rule: {rule}") for r in result.reasons)


@pytest.mark.parametrize("text, rule", [
    ("my car seized up on the motorway and I nearly died", "injury or safety"),
    ("there was a piece of glass in my sandwich", "injury or safety"),
    ("the pharmacy gave me the wrong medication", "injury or safety"),
    ("you sent my bank statement to my ex, who now knows where I live", "data breach"),
    ("I have complained to the FTC about you", "regulator or press"),
    ("the new car dropped into limp mode and I had to crawl to the hard shoulder", "injury or safety"),
    ("the brakes failed on the way home", "injury or safety"),
])
def test_rules_cover_harm_written_in_everyday_words(text, rule):
    assert rule in [name for name, _ in critical_hits(text)]


HOSTILE_UNITS = ("a", "@", "a@", "a@b.", "1", "1-", "1,", "$1,", "my ", "a ", "sent my statement ", "glass in ")


def _seconds(function, text: str) -> float:
    """The best of three runs: the least disturbed by whatever else the machine does."""
    import time

    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - started)
    return best


def assert_linear(function) -> None:
    """Four times the text may take about four times as long, never ten: a quadratic pattern
    takes sixteen times, a cubic one sixty-four. Small texts first, so a bad pattern fails in
    seconds instead of hanging; then 400,000 characters within a bound."""
    for unit in HOSTILE_UNITS:
        small, large = unit * (2_000 // len(unit)), unit * (8_000 // len(unit))
        ratio = _seconds(function, large) / max(_seconds(function, small), 1e-3)
        assert ratio < 10, (unit, ratio)
        assert _seconds(function, unit * (400_000 // len(unit))) < 3, unit


@pytest.mark.parametrize("name", ["_MONEY", "_SPAN", "_REPEAT", "_NEGATION", "_REF", "_URL", "_HANDLE"])
def test_feature_patterns_take_linear_time_on_hostile_text(name):
    from classifiers import features

    assert_linear(getattr(features, name).findall)


def test_a_huge_message_is_classified_quickly_from_its_opening(classifier):
    import time

    from classifiers.model import MAX_CHARS

    huge = "My parcel is three weeks late and nobody answers. " + "a@" * 2_000_000
    started = time.perf_counter()
    results = classifier.classify_many(["@" * 1_000_000, "1-" * 500_000, huge], T)
    assert time.perf_counter() - started < 10
    assert results[2] == classifier.classify_many([huge[:MAX_CHARS]], T)[0]


def test_rules_take_linear_time_on_hostile_text():
    assert_linear(critical_hits)


def test_rules_do_not_fire_on_ordinary_words():
    assert critical_hits("My order is late and the box was damaged.") == []
    assert [name for name, _ in critical_hits("I will take you to court over this")] == ["legal threat"]


def test_reasons_name_readable_words(classifier):
    result = verdict(classifier, "I was charged twice for my subscription, please refund the second payment.")
    assert result.reasons and result.reasons[0].startswith("complaint:")
    words = result.reasons[0].split(":", 1)[1]
    assert "charged" in words or "refund" in words or "twice" in words


def test_probabilities_are_consistent(classifier):
    result = verdict(classifier, "The app crashes every time I open it and I've lost a day of work.")
    assert abs(sum(result.severity_probabilities.values()) - 1) < 1e-6
    assert abs(sum(result.category_probabilities.values()) - 1) < 1e-3
    assert 0 <= result.complaint_probability <= 1


def test_ordinal_probabilities_never_go_negative():
    crossing = np.array([[0.4, 0.7, 0.2]])  # heads trained apart may cross
    levels = ordinal_probabilities(crossing)[0]
    assert (levels >= 0).all() and abs(levels.sum() - 1) < 1e-9
    assert severity_from(np.array([0.9, 0.6, 0.1]), T) == "high"
    assert severity_from(np.array([0.9, 0.6, 0.1]), replace(T, high=0.7)) == "medium"


def test_an_email_needs_more_evidence_for_each_level_than_a_tweet():
    """A long mail piles up complaint words; the same probabilities read as a lower level."""
    at_least = np.array([0.9, 0.75, 0.65])
    assert severity_from(at_least, T, chars=120) == "critical"
    assert severity_from(at_least, T, chars=T.email_from_chars) == "medium"
    assert severity_from(np.array([0.95, 0.92, 0.91]), T, chars=600) == "critical"


def test_a_category_the_model_is_unsure_of_is_other_with_its_guesses_shown(classifier):
    text = "My parcel never arrived and the tracking has said out for delivery for a week."
    result = classifier.classify("Parcel missing", text, replace(T, category_floor=0.99))
    assert result.category == "other"
    assert any(r.startswith("category unsure (delivery ") for r in result.reasons), result.reasons
    sure = classifier.classify("Parcel missing", text, replace(T, category_floor=0.01))
    assert sure.category == "delivery" and not any(r.startswith("category unsure") for r in sure.reasons)


def test_thresholds_change_decisions_without_retraining(classifier):
    text = "The delivery was a bit later than I hoped."
    p = verdict(classifier, text).complaint_probability
    assert classifier.classify("", text, replace(T, complaint=min(0.99, p + 0.01))).complaint is False
    assert classifier.classify("", text, replace(T, complaint=max(0.01, p - 0.01))).complaint is True


def test_escalation_for_repeat_complainers_and_vips(classifier):
    base = verdict(classifier, "Hi, one of the mugs has a tiny chip. Not a big deal, just letting you know.")
    assert base.severity == "low"
    repeat = escalate(base, 1, 30, "a@shop.example")
    assert repeat.severity == "medium" and "repeat complainer" in repeat.reasons[-1]
    both = escalate(base, 2, 30, "ceo@bigcustomer.com", ["BigCustomer.com"])
    assert both.severity == "high" and "VIP domain bigcustomer.com" in both.reasons[-1]
    assert escalate(verdict(classifier, "Thanks, lovely service!"), 3, 30, "a@b.c") .severity is None


def test_shipped_corpus_is_large_varied_and_follows_the_rubric():
    records = list(read_jsonl([CORPUS]))
    assert len(records) >= 3000
    assert len({r["body"] for r in records}) / len(records) > 0.9
    assert len({r["group"] for r in records}) >= 80
    assert len({r["industry"] for r in records}) >= 9
    for r in records:
        if r["complaint"]:
            assert r["severity"] in ("low", "medium", "high", "critical") and r["category"]
        else:
            assert r["severity"] is None and r["category"] is None


def test_saved_model_records_its_provenance_and_figures(model_dir, classifier):
    meta = json.loads((model_dir / classifier.version / "meta.json").read_text())
    assert meta["sklearn_version"] and len(meta["data_sha256"]) == 64 and meta["records"] >= 20000
    assert set(meta["sources"]) == {"corpus", "banking77", "bitext", "sms", "reviews"}
    assert len(meta["model_sha256"]) == 64 and meta["encoder"]["file"] == "minilm-l6-int8.onnx"
    by_source = meta["metrics"]["by_source"]
    assert by_source["corpus"]["f1"] > 0.85 and by_source["banking77"]["macro_f1"] > 0.8
    assert meta["metrics"]["severity"]["macro_f1"] > 0.45
    assert (model_dir / classifier.version / "oof.json").exists()


def test_model_built_by_another_sklearn_version_is_refused_clearly(model_dir, classifier, tmp_path):
    copy = tmp_path / "old"
    shutil.copytree(model_dir / classifier.version, copy)
    meta = json.loads((copy / "meta.json").read_text())
    meta["sklearn_version"] = "0.24.2"
    (copy / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="built with scikit-learn 0.24.2.*amends train"):
        Classifier.load(copy)


def test_model_file_naming_untrusted_code_is_refused(model_dir, classifier, tmp_path):
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    copy = tmp_path / "evil"
    shutil.copytree(model_dir / classifier.version, copy)
    sio.dump({"union": FunctionTransformer(os.system)}, copy / "model.skops")
    _set_meta(copy, model_sha256=file_sha256(copy / "model.skops"))  # even with a matching hash
    with pytest.raises(ModelError, match="does not trust"):
        Classifier.load(copy)


def _set_meta(path, **values):
    meta = json.loads((path / "meta.json").read_text())
    meta.update(values)
    (path / "meta.json").write_text(json.dumps(meta))


def test_a_changed_model_file_is_refused(model_dir, classifier, tmp_path):
    copy = tmp_path / "tampered"
    shutil.copytree(model_dir / classifier.version, copy)
    with open(copy / "model.skops", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelError, match="SHA-256 differs"):
        Classifier.load(copy)


@pytest.mark.parametrize("meta, message", [
    ({"encoder": {"sha256": "0" * 64}}, "another sentence encoder"),
    ({"model_sha256": None}, "SHA-256 differs"),
])
def test_a_model_that_does_not_match_its_parts_is_refused(model_dir, classifier, tmp_path, meta, message):
    copy = tmp_path / "other"
    shutil.copytree(model_dir / classifier.version, copy)
    _set_meta(copy, **meta)
    with pytest.raises(ModelError, match=message):
        Classifier.load(copy)


def test_malformed_model_files_are_model_errors(model_dir, classifier, tmp_path):
    import skops.io as sio

    copy = tmp_path / "malformed"
    shutil.copytree(model_dir / classifier.version, copy)
    sio.dump({"union": [1, 2, 3]}, copy / "model.skops")
    _set_meta(copy, model_sha256=file_sha256(copy / "model.skops"))
    with pytest.raises(ModelError, match="does not hold an Amends model"):
        Classifier.load(copy)
    (copy / "meta.json").write_text("[]")
    with pytest.raises(ModelError, match="not a model's metadata"):
        Classifier.load(copy)


@pytest.mark.parametrize("named", ["../elsewhere", "/etc", ".hidden", ".."])
def test_active_may_only_name_a_version_inside_the_model_directory(tmp_path, named):
    (tmp_path / "ACTIVE").write_text(named + "\n")
    with pytest.raises(ModelError, match="not a model version"):
        model_dir_version(tmp_path)
    with pytest.raises(ModelError, match="not a model version"):
        activate(tmp_path, named)


def test_training_is_reproducible(tmp_path, encodings_cache):
    records = [r for i, r in enumerate(read_jsonl([CORPUS])) if i % 8 == 0]
    first = train(records, tmp_path / "a", folds=2, cache=encodings_cache)
    second = train(records, tmp_path / "b", folds=2, cache=encodings_cache)
    assert first.meta["metrics"] == second.meta["metrics"]
    assert first.meta["data_sha256"] == second.meta["data_sha256"]
    texts = ["my parcel never came", "thanks, all good"]
    np.testing.assert_array_equal(first.probabilities(texts)[0], second.probabilities(texts)[0])


def test_training_data_with_labels_outside_the_rubric_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'urgent' or category None is not a name from RUBRIC.md"):
        train([{"id": "x", "text": "late", "complaint": True, "severity": "urgent"}], tmp_path, folds=2)
    unrated = [{"id": str(i), "text": f"late {i}", "complaint": True} for i in range(4)]
    with pytest.raises(ValueError, match="at least two severity values, found none"):
        train(unrated, tmp_path, folds=2)
