"""Detect in the worker and on the command line: classify once, keep history, stream JSONL."""

import json
import subprocess
import sys
from datetime import datetime, timezone

from click.testing import CliRunner

from worker.cli import main
from worker.loop import Worker

from .conftest import ROOT, eml

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def classifier_toml(model_dir, extra=""):
    return f'[classifier]\nmodel_dir = "{model_dir}"\n{extra}'


def poll(config, store, classifier=None):
    worker = Worker(config, store, classifier=classifier)
    with worker.inbox:
        return worker.tick(NOW)


def test_every_message_from_a_person_is_classified_once(mailbox, make_config, store, model_dir):
    for name in ("gmail_complaint_delivery.eml", "praise.eml", "ooo_exchange.eml", "dsn_postfix.eml"):
        mailbox.append(eml(name))
    config = make_config(classifier_toml(model_dir))
    summary = poll(config, store)
    assert summary.classified == 2  # the auto-reply and the bounce are never classified
    rows = {r["subject"]: r for r in store.messages()}
    assert rows["Order #48213 still hasn't arrived"]["complaint"] is True
    assert rows["Thank you!"]["complaint"] is False
    assert rows["Automatic reply: Your ticket 55231"]["complaint"] is None
    assert poll(config, store).classified == 0
    (current,) = store.classifications(rows["Order #48213 still hasn't arrived"]["id"])
    assert current["model_version"] and current["thresholds"]["complaint"] == 0.5
    assert current["reasons"] and current["severity_probabilities"]


def test_classifying_a_first_import_shows_how_far_it_has_got(mailbox, make_config, store, model_dir):
    for name in ("gmail_complaint_delivery.eml", "praise.eml", "question.eml", "ooo_exchange.eml"):
        mailbox.append(eml(name))
    stages: dict[str, list[tuple[int, int]]] = {}
    worker = Worker(make_config(classifier_toml(model_dir)), store,
                    progress=lambda stage, done, total: stages.setdefault(stage, []).append((done, total)))
    with worker.inbox:
        worker.tick(NOW)
    assert stages["Classifying"][-1] == (3, 3)  # the out-of-office is never classified
    assert stages["Reading INBOX"][-1] == (4, 4) and "Parsing INBOX" in stages


NEW_CASE = (b"From: Sarah Whitfield <sarah.whitfield@gmail.com>\nTo: support@example.com\nSubject: Charged twice for "
            b"order #50122\nMessage-ID: <new-case@mail.gmail.com>\nDate: Fri, 13 Nov 2026 10:00:00 +0000\n\n"
            b"You have charged my card twice for order #50122 and I want the duplicate refunded.\n\nSarah\n")


def test_a_new_case_makes_a_repeat_complainer_and_a_chaser_does_not(mailbox, make_config, store, model_dir):
    mailbox.append(eml("gmail_complaint_delivery.eml"))
    mailbox.append(eml("gmail_reply_quoted.eml"))  # the same customer, two days later, in the same thread
    mailbox.append(NEW_CASE)                         # and a new case three days later
    config = make_config(classifier_toml(model_dir))
    poll(config, store)
    chaser = next(r for r in store.messages() if r["subject"].startswith("Re:"))
    (current,) = store.classifications(chaser["id"])
    assert not any("repeat complainer" in reason for reason in current["reasons"])
    assert any(reason.startswith("chaser: message 2") for reason in current["reasons"])
    new_case = next(r for r in store.messages() if "50122" in r["subject"])
    (current,) = store.classifications(new_case["id"])
    assert any("repeat complainer (an earlier case" in reason for reason in current["reasons"])


def test_vip_domain_goes_up_a_level(mailbox, make_config, store, model_dir):
    mailbox.append(eml("sign_off_regards.eml"))
    poll(make_config(classifier_toml(model_dir, 'vip_domains = ["harbourclinic.org"]')), store)
    (row,) = store.messages()
    assert any("VIP domain harbourclinic.org" in r for r in store.classifications(row["id"])[0]["reasons"])


def test_without_a_model_messages_wait_and_are_classified_later(mailbox, make_config, store, model_dir, tmp_path):
    mailbox.append(eml("base64_body.eml"))
    assert poll(make_config(classifier_toml(tmp_path / "empty")), store).classified == 0
    assert poll(make_config(classifier_toml(model_dir)), store).classified == 1


def test_reclassify_keeps_history_and_show_displays_it(mailbox, make_config, store, model_dir):
    mailbox.append(eml("base64_body.eml"))
    config = make_config(classifier_toml(model_dir))
    poll(config, store)
    (row,) = store.messages()
    runner = CliRunner()
    result = runner.invoke(main, ["--config", config.path, "reclassify", str(row["id"])])
    assert result.exit_code == 0, result.output
    history = store.classifications(row["id"])
    assert len(history) == 2 and [h["current"] for h in history] == [1, 0]
    shown = runner.invoke(main, ["--config", config.path, "messages", "show", str(row["id"])])
    assert "Classified: complaint" in shown.output and "1 earlier classification(s) kept" in shown.output


def test_classify_an_eml_file_and_plain_text(make_config, model_dir, tmp_path):
    config = make_config(classifier_toml(model_dir))
    runner = CliRunner()
    result = runner.invoke(main, ["--config", config.path, "classify", str(ROOT / "tests/fixtures/eml/base64_body.eml")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["complaint"] is True and data["category"] == "billing"
    plain = runner.invoke(main, ["--config", config.path, "classify", "-"], input="Thanks, the bike arrived early!")
    assert json.loads(plain.output)["complaint"] is False


def test_classify_jsonl_streams_and_reports_bad_lines(make_config, model_dir):
    config = make_config(classifier_toml(model_dir))
    lines = [json.dumps({"id": i, "text": "my parcel never arrived, refund me"}) for i in range(600)]
    lines.insert(5, "{not json")
    lines.insert(7, json.dumps({"id": "no-text"}))
    lines.append(json.dumps({"id": "sb", "subject": "Thanks", "body": "all sorted, cheers"}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "--config", config.path, "classify", "--jsonl"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, text=True,
    )
    proc.stdin.write("\n".join(lines[:520]) + "\n")
    proc.stdin.flush()
    first = json.loads(proc.stdout.readline())  # answered before the input has ended: streaming
    assert first["id"] == 0 and first["complaint"] is True
    proc.stdin.write("\n".join(lines[520:]) + "\n")
    proc.stdin.close()
    rows = [first] + [json.loads(line) for line in proc.stdout.read().splitlines()]
    assert proc.wait(timeout=60) == 0
    assert len(rows) == len(lines)
    assert "error" in rows[5] and rows[7] == {"id": "no-text", "error": rows[7]["error"]}
    assert set(rows[0]) == {"id", "complaint", "complaint_probability", "severity", "severity_probabilities", "category", "reasons"}
    assert rows[-1]["id"] == "sb" and rows[-1]["complaint"] is False and rows[-1]["severity"] is None


def test_evaluate_prints_figures_and_writes_a_pr_curve(make_config, model_dir, tmp_path):
    config = make_config(classifier_toml(model_dir))
    data = tmp_path / "eval.jsonl"
    rows = [
        {"text": "My order is three weeks late and nobody replies", "complaint": True, "severity": "medium", "category": "delivery"},
        {"text": "You charged me twice, I want my money back now", "complaint": True, "severity": "medium", "category": "billing"},
        {"text": "The heater you sold me sparked and burned my hand.", "complaint": True, "severity": "critical", "category": "defect"},
        {"text": "Can I change my delivery address?", "complaint": False},
        {"subject": "Thanks", "body": "Lovely service, thank you!", "complaint": False},
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows))
    plot = tmp_path / "pr.png"
    result = CliRunner().invoke(main, ["--config", config.path, "evaluate", "--data", str(data), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "macro-F1 1.000  precision 1.000  recall 1.000" in result.output
    assert "predicted complaints 60.0% (truly 60.0%)  AUC 1.000" in result.output
    assert "critical recall 1.000 (n=1 critical)" in result.output
    assert "complaint head by threshold" in result.output and "0.9" in result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_ranks_severity_against_a_0_to_4_scale(make_config, model_dir, tmp_path):
    """Real sets grade severity on their own scale (the dev tweets: 0 no complaint ... 4 blame)."""
    config = make_config(classifier_toml(model_dir))
    data = tmp_path / "graded.jsonl"
    rows = [
        ("Could you tell me your opening hours over Christmas?", False, 0),
        ("Thanks, the replacement arrived this morning!", False, 0),
        ("one of the mugs has a tiny chip, not a big deal", True, 1),
        ("My order is two weeks late and nobody answers my emails. Very disappointed.", True, 2),
        ("Third time this year you've sent the wrong size. Disgraceful, I'm closing my account.", True, 4),
    ]
    data.write_text("\n".join(json.dumps({"text": t, "complaint": c, "severity": s}) for t, c, s in rows))
    result = CliRunner().invoke(main, ["--config", config.path, "evaluate", "--data", str(data)])
    assert result.exit_code == 0, result.output
    spearman = float(result.output.split("Spearman ")[1].split()[0])
    assert spearman > 0.8 and "(not a complaint lowest; n=5)" in " ".join(result.output.split())
    assert "critical recall" not in result.output


def test_evaluate_without_labels_is_a_clear_error(make_config, model_dir, tmp_path):
    config = make_config(classifier_toml(model_dir))
    data = tmp_path / "nolabel.jsonl"
    data.write_text(json.dumps({"id": 1, "text": "hello"}))
    result = CliRunner().invoke(main, ["--config", config.path, "evaluate", "--data", str(data)])
    assert result.exit_code == 1 and 'has no "complaint" label' in result.output


def test_train_saves_a_version_and_model_list_shows_it(make_config, tmp_path):
    from classifiers.train import CORPUS, read_jsonl

    small = tmp_path / "small.jsonl"
    small.write_text("".join(json.dumps(r) + "\n" for i, r in enumerate(read_jsonl([CORPUS])) if i % 10 == 0))
    config = make_config(classifier_toml(tmp_path / "models"))
    runner = CliRunner()
    result = runner.invoke(main, ["--config", config.path, "train", "--data", str(small), "--folds", "2"])
    assert result.exit_code == 0, result.output
    assert "complaint   macro-F1" in result.output and "Active model:" in result.output
    listed = runner.invoke(main, ["--config", config.path, "model", "list"])
    assert "*" in listed.output
    brief = runner.invoke(main, ["--config", config.path, "train", "--data", str(small), "--folds", "2", "--brief"])
    assert brief.exit_code == 0 and "confusion matrix" not in brief.output
    assert len([line for line in brief.output.splitlines() if "F1" in line]) == 1  # the demo's one line of figures
    no_model = runner.invoke(main, ["--config", make_config(classifier_toml(tmp_path / "none")).path, "classify", "-"], input="x")
    assert no_model.exit_code == 1 and "amends train" in no_model.output


def _corrections(store, count, complaint, texts, first_id):
    """Reviewer corrections on stored messages (made directly). Ids that are not multiples of
    five are never held back for judging, so these all go into training."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    for i in range(count):
        pk = store.db.conn.execute(
            "INSERT INTO messages (id, message_key, message_id, sha256, size, fetched_at, state, subject, new_text) "
            "VALUES (?, ?, ?, '', 0, ?, 'parsed', ?, ?)",
            [first_id + i * 5 + 1, f"mid:c{i}-{complaint}", f"c{i}-{complaint}@x", now.isoformat(), "",
             texts[i % len(texts)]]).lastrowid
        store.add_correction(pk, "Ann", complaint, "medium" if complaint else None, "delivery" if complaint else None, now)


def test_retrain_keeps_a_model_that_is_not_worse_and_refuses_a_worse_one(
        make_config, store, tmp_path, model_dir, encodings_cache):
    import shutil

    from classifiers.labels import model_dir_version

    models = tmp_path / "models"
    shutil.copytree(model_dir, models)
    config = make_config(classifier_toml(models, f'encodings_cache = "{encodings_cache}"'))
    runner = CliRunner()
    active = model_dir_version(models)
    _corrections(store, 5, True, ["My parcel never arrived and nobody answers"], 1000)
    kept = runner.invoke(main, ["--config", config.path, "retrain", "--folds", "2"])
    assert kept.exit_code == 0 and "Active model" in kept.output, kept.output
    assert model_dir_version(models) != active
    # Poisoned corrections: real complaint wording relabelled as "not a complaint", in bulk.
    from classifiers.train import CORPUS, read_jsonl

    complaints = [r["body"] for r in read_jsonl([CORPUS]) if r["complaint"]]
    _corrections(store, len(complaints), False, complaints, 100000)
    worse = runner.invoke(main, ["--config", config.path, "retrain", "--folds", "2"])
    assert worse.exit_code == 1 and "measures worse" in worse.output, worse.output
    shutil.rmtree(models)
