"""`amends classify`, `train`, `evaluate`, `reclassify` and `model`: the Detect commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from classifiers.labels import activate, model_dir_version

from ..desk.detect import classify_rows, load_classifier, thresholds_of
from ..errors import AmendsError
from ..mail.parse import UnparseableMessage, parse_message
from ..store import utcnow
from .kit import Context, console, err_console, friendly, pass_ctx

CHUNK = 512


def _looks_like_email(data: bytes) -> bool:
    head = data[:4096].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0].lower()
    return b"\nsubject:" in b"\n" + head and (b"\nfrom:" in b"\n" + head or b"\ndate:" in b"\n" + head)


def _subject_and_text(data: bytes) -> tuple[str, str]:
    if _looks_like_email(data):
        try:
            msg = parse_message(data)
            return msg.subject, msg.new_text or msg.text
        except UnparseableMessage:
            pass
    return "", data.decode("utf-8", "replace")


def _line_text(record: dict) -> str:
    from classifiers.train import record_text

    if "text" not in record and "body" not in record and "subject" not in record:
        raise ValueError('needs "text", or "subject" and "body"')
    return record_text(record)


def _chunks(lines: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(islice(lines, size)):
        yield chunk


@click.command()
@click.argument("source", required=False, default="-", metavar="[FILE|-]")
@click.option("--jsonl", is_flag=True, help='Read JSON lines {"id", "text"} or {"id", "subject", "body"} on stdin.')
@pass_ctx
@friendly
def classify(ctx: Context, source: str, jsonl: bool) -> None:
    """Classify one email (.eml or plain text) or, with --jsonl, a stream of lines.

    With --jsonl, each input line gives one output line with id, complaint,
    complaint_probability, severity, severity_probabilities, category and reasons; a line that
    cannot be read gives {"id", "error"} and the stream goes on. Input is read in chunks, so
    memory stays flat however long the stream is.
    """
    ctx.defaults_without_a_file()
    classifier = load_classifier(ctx.config)
    thresholds = thresholds_of(ctx.config, ctx.store)
    if not jsonl:
        data = sys.stdin.buffer.read() if source == "-" else _read(source)
        subject, text = _subject_and_text(data)
        result = classifier.classify(subject, text, thresholds)
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    stream = sys.stdin if source == "-" else open(source, encoding="utf-8")
    out = sys.stdout
    for chunk in _chunks(iter(stream.readline, ""), CHUNK):
        texts, ids, errors = [], [], {}
        for number, line in enumerate(chunk):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                texts.append(_line_text(record))
                ids.append(record.get("id"))
            except (ValueError, AttributeError) as exc:
                record_id = None
                try:
                    record_id = json.loads(line).get("id")
                except (ValueError, AttributeError):
                    pass
                errors[len(ids) + len(errors)] = {"id": record_id, "error": f"cannot read this line: {exc}"}
        results = iter(classifier.classify_many(texts, thresholds))
        id_iter = iter(ids)
        for position in range(len(ids) + len(errors)):
            if position in errors:
                out.write(json.dumps(errors[position]) + "\n")
                continue
            r = next(results)
            out.write(json.dumps({
                "id": next(id_iter), "complaint": r.complaint, "complaint_probability": r.complaint_probability,
                "severity": r.severity, "severity_probabilities": r.severity_probabilities,
                "category": r.category, "reasons": r.reasons,
            }, ensure_ascii=False) + "\n")
        out.flush()


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AmendsError(f"cannot read {path}: {exc.strerror}") from None


def _records(paths: tuple[str, ...]) -> list[dict]:
    from classifiers.train import read_jsonl

    try:
        return list(read_jsonl(Path(p) for p in paths))
    except FileNotFoundError as exc:
        raise AmendsError(f"no such data file: {exc.filename}") from None
    except ValueError as exc:
        raise AmendsError(str(exc)) from None


def print_figures(figures: dict) -> None:
    c = figures["complaint"]
    console.print(f"complaint   macro-F1 {c['macro_f1']:.3f}  precision {c['precision']:.3f}  recall {c['recall']:.3f}"
                  f"  F1 {c['f1']:.3f}  (n={c['support']})")
    if "predicted_share" in c:
        auc = f"{c['auc']:.3f}" if c.get("auc") is not None else "-"
        console.print(f"            predicted complaints {c['predicted_share']:.1%} (truly {c['true_share']:.1%})  AUC {auc}")
    s = figures["severity"]
    if "spearman" in s:
        console.print(f"severity    Spearman {s['spearman']:.3f} against the data's severity order "
                      f"(not a complaint lowest; n={s['spearman_n']})")
    if "critical_recall" in s:
        console.print(f"            critical recall {s['critical_recall']:.3f} (n={s['critical_n']} critical)")
    for head in ("severity", "category"):
        m = figures[head]
        if not m.get("support"):
            continue
        console.print(f"{head:11s} macro-F1 {m['macro_f1']:.3f}  accuracy {m['accuracy']:.3f}  (n={m['support']} complaints)")
        table = Table("true \\ predicted", *m["labels"], "recall", title=f"{head} confusion matrix", title_justify="left")
        for label, row in zip(m["labels"], m["confusion"]):
            table.add_row(label, *map(str, row), f"{m['per_label'][label]['recall']:.2f}")
        console.print(table)


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console, transient=True, disable=not err_console.is_terminal)


def _training_progress(progress: Progress):
    """A training progress callback that shows each stage as its own bar."""
    tasks: dict[str, int] = {}

    def step(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return step


def encodings_cache(config) -> Path:
    return Path(config.classifier.encodings_cache or Path(config.classifier.model_dir) / "encodings.sqlite")


@click.command()
@click.option("--data", "data", multiple=True, type=click.Path(),
              help="JSONL training data (repeatable). Default: the shipped corpus and real sets (classifiers/data/).")
@click.option("--folds", default=3, show_default=True, type=click.IntRange(2, 20), help="Group K-fold for the figures.")
@click.option("--activate/--no-activate", "make_active", default=None,
              help="Use the new model from now on (default: only when no model is active yet).")
@click.option("--brief", is_flag=True, help="One line of figures instead of the confusion tables.")
@pass_ctx
@friendly
def train(ctx: Context, data: tuple[str, ...], folds: int, make_active: bool | None, brief: bool = False) -> None:
    """Train a new model, print its cross-validated figures and save it as a new version.

    Figures come from a group K-fold: each record is predicted by a model that never saw its
    scenario (or its source's intent). Sentence vectors are cached, so training again on the
    same texts skips encoding them. Training is seeded: the same data gives the same model.
    Figures on real text from unseen sources: `amends evaluate --data FILE`.
    """
    ctx.defaults_without_a_file()
    from classifiers.train import TRAINING_DATA, train as train_model

    records = _records(data or tuple(map(str, TRAINING_DATA)))
    model_dir = Path(ctx.config.classifier.model_dir)
    with _progress() as progress:
        try:
            classifier = train_model(records, model_dir, folds, _training_progress(progress), encodings_cache(ctx.config))
        except ValueError as exc:
            raise AmendsError(str(exc)) from None
    console.print(f"Model {classifier.version}: {len(records):,} records, {folds}-fold group cross-validation")
    if brief:
        m = classifier.meta["metrics"]
        console.print(f"complaint F1 {m['complaint']['f1']:.3f}, severity macro-F1 {m['severity'].get('macro_f1', 0):.3f}, "
                      f"category macro-F1 {m['category'].get('macro_f1', 0):.3f} (`amends model list`)")
    else:
        print_figures(classifier.meta["metrics"])
    if make_active or (make_active is None and model_dir_version(model_dir) is None):
        activate(model_dir, classifier.version)
        console.print(f"Active model: {classifier.version}")
    else:
        console.print(f"Saved in {model_dir / classifier.version}; activate with `amends model activate {classifier.version}`")


@click.command()
@click.option("--data", "data", required=True, type=click.Path(), help="JSONL with text (or subject/body) and the true complaint; optionally severity and category.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write a precision-recall curve PNG here.")
@pass_ctx
@friendly
def evaluate(ctx: Context, data: str, plot: str | None) -> None:
    """Measure the active model on labelled data: macro-F1, precision, recall, AUC, severity.

    Each line of the JSONL file needs "text" (or "subject" and "body") and "complaint"
    (true/false); "severity" may be a name (low ... critical) or a number on a 0-4 scale, and
    "category" a name from RUBRIC.md. Severity is compared as an order (Spearman); with named
    severities, critical recall is printed too.
    """
    ctx.defaults_without_a_file()
    from classifiers import metrics
    from classifiers.evaluate import evaluate_records
    from classifiers.train import read_jsonl

    classifier = load_classifier(ctx.config)
    thresholds = thresholds_of(ctx.config, ctx.store)
    try:
        records = list(read_jsonl([Path(data)]))
        with _progress() as progress:
            task = progress.add_task("classifying", total=len(records))
            evaluation = evaluate_records(classifier, records, thresholds,
                                          lambda done: progress.update(task, completed=done))
    except FileNotFoundError:
        raise AmendsError(f"no such data file: {data}") from None
    except ValueError as exc:
        raise AmendsError(f"{data}: {exc}") from None
    figures, y, scores = evaluation.figures, evaluation.truth, evaluation.scores
    console.print(f"Model {classifier.version} on {data}: {len(y):,} records, threshold {thresholds.complaint}")
    print_figures(figures)
    table = Table("threshold", "precision", "recall", "F1", "flagged", title="complaint head by threshold", title_justify="left")
    for row in metrics.threshold_table(y, scores):
        table.add_row(f"{row['threshold']:.1f}", f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", str(row["flagged"]))
    console.print(table)
    if plot:
        if len(set(y)) < 2:
            raise AmendsError("a precision-recall curve needs both complaints and non-complaints in the data")
        metrics.pr_curve_png(y, scores, Path(plot), f"Complaint head, model {classifier.version}", thresholds.complaint)
        console.print(f"Precision-recall curve written to {plot}")


@click.command()
@click.argument("message_ids", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Every message from a person, not just those named.")
@pass_ctx
@friendly
def reclassify(ctx: Context, message_ids: tuple[int, ...], everything: bool) -> None:
    """Classify stored messages again with the active model; earlier results stay as history."""
    if not message_ids and not everything:
        raise click.UsageError("name message ids, or pass --all")
    store = ctx.store
    classifier = load_classifier(ctx.config)
    rows = store.from_people(None if everything else message_ids)
    done = 0
    for start in range(0, len(rows), CHUNK):
        done += classify_rows(store, classifier, ctx.config, rows[start : start + CHUNK], utcnow())
    console.print(f"Reclassified {done} message(s) with model {classifier.version}.")


HANDWRITTEN = Path(__file__).resolve().parents[2] / "classifiers" / "data" / "handwritten.jsonl"


def correction_records(store) -> tuple[list[dict], list[dict]]:
    """Reviewers' corrections as records: about one in five is held back to judge the models."""
    train, held = [], []
    for row in store.corrections():
        record = {"id": f"review-{row['message_pk']}", "group": f"review-{row['message_pk']}",
                  "subject": row["subject"], "body": row["new_text"] or row["text"],
                  "complaint": bool(row["complaint"]), "severity": row["severity"], "category": row["category"]}
        (held if row["message_pk"] % 5 == 0 else train).append(record)
    return train, held


@click.command()
@click.option("--force", is_flag=True, help="Activate the new model even if it measures worse.")
@click.option("--folds", default=3, show_default=True, type=click.IntRange(2, 20))
@pass_ctx
@friendly
def retrain(ctx: Context, force: bool, folds: int) -> None:
    """Train on the shipped corpus plus reviewers' corrections; keep the better model.

    Old and new models are scored on the same held-out data (the hand-written check set and a
    fifth of the corrections, never trained on); the new one becomes active only if it is
    not worse, unless --force.
    """
    from classifiers.evaluate import evaluate_records
    from classifiers.train import TRAINING_DATA, read_jsonl, train as train_model

    config = ctx.config
    model_dir = Path(config.classifier.model_dir)
    extra, held = correction_records(ctx.store)
    records = list(read_jsonl(TRAINING_DATA)) + extra
    held_out = list(read_jsonl([HANDWRITTEN])) + held
    thresholds = thresholds_of(config, ctx.store)
    old = None
    if model_dir_version(model_dir):
        old = evaluate_records(load_classifier(config), held_out, thresholds)
    console.print(f"Training on {len(records):,} records ({len(extra)} corrections)")
    with _progress() as progress:
        new_model = train_model(records, model_dir, folds, _training_progress(progress), encodings_cache(config))
    new = evaluate_records(new_model, held_out, thresholds)
    table = Table("held-out figures", "active model", "new model", title=f"{len(held_out)} held-out records",
                  title_justify="left")
    for label, key in (("complaint F1", ("complaint", "f1")), ("severity macro-F1", ("severity", "macro_f1")),
                       ("category macro-F1", ("category", "macro_f1"))):
        value = lambda e: f"{e.figures[key[0]].get(key[1], 0):.3f}" if e else "-"  # noqa: E731
        table.add_row(label, value(old), value(new))
    table.add_row("summary", f"{old.summary:.3f}" if old else "-", f"{new.summary:.3f}")
    console.print(table)
    better = old is None or new.summary >= old.summary - 0.005
    if better or force:
        activate(model_dir, new_model.version)
        ctx.store.audit("amends", "activated model", "model", None,
                        {"version": new_model.version, "forced": force and not better, "held_out": new.summary}, utcnow())
        console.print(f"Active model: {new_model.version}{' (forced)' if force and not better else ''}. "
                      "A running worker switches to it before its next message.")
    else:
        console.print(f"The new model {new_model.version} measures worse; the active one stays. "
                      f"Use --force, or `amends model activate {new_model.version}`.")
        raise SystemExit(1)


@click.group()
def model() -> None:
    """List trained models and choose the active one."""


@model.command("list")
@pass_ctx
@friendly
def model_list(ctx: Context) -> None:
    """Every saved model with its figures; * marks the active one."""
    ctx.defaults_without_a_file()
    model_dir = Path(ctx.config.classifier.model_dir)
    active = model_dir_version(model_dir)
    table = Table("", Column("version", no_wrap=True, min_width=24), "records", "complaint F1",  # `model activate` takes it whole
                  "severity macro-F1", "category macro-F1", "scikit-learn")
    for meta_path in sorted(model_dir.glob("*/meta.json")):
        meta = json.loads(meta_path.read_text())
        m = meta.get("metrics", {})
        table.add_row("*" if meta["version"] == active else "", meta["version"], str(meta.get("records", "")),
                      f"{m.get('complaint', {}).get('f1', 0):.3f}", f"{m.get('severity', {}).get('macro_f1', 0):.3f}",
                      f"{m.get('category', {}).get('macro_f1', 0):.3f}", meta.get("sklearn_version", ""))
    console.print(table)


@model.command("activate")
@click.argument("version")
@pass_ctx
@friendly
def model_activate(ctx: Context, version: str) -> None:
    """Use VERSION from now on (a running worker switches to it before its next message)."""
    ctx.defaults_without_a_file()
    from classifiers.model import Classifier

    model_dir = Path(ctx.config.classifier.model_dir)
    Classifier.load(model_dir / version)  # refuse a model that cannot be loaded
    activate(model_dir, version)
    console.print(f"Active model: {version}")


COMMANDS = [classify, train, evaluate, retrain, reclassify, model]
