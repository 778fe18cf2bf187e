"""Classifier benchmark: throughput on one core, load time, memory, install footprint, training.

    python benchmarks/classify.py [--messages 2000] [--train]

Uses the active model (config/demo.toml's classifier.model_dir; `amends train` makes one).
Throughput is measured on one core (process pinned, one ONNX thread, BLAS pinned to one) as
the worker runs it: the whole ``classify_many`` (TF-IDF, sentence encoder, heads, rules,
reasons), beside the raw limit of the same run: the sentence encoder alone on the same texts.
Two inputs: the shipped corpus as it is (short mail), and email-length mail (about 1,500
characters each). ``--train`` also times `amends train` and `amends retrain` in a scratch
model directory, once with no cached vectors and once with them.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.model import Classifier, Thresholds, model_dir_version  # noqa: E402
from classifiers.train import CORPUS, read_jsonl, record_text  # noqa: E402
from worker.config import load_config  # noqa: E402


def rate(label: str, texts: list[str], run) -> float:
    run(texts[:64])  # warm up
    started = time.perf_counter()
    for start in range(0, len(texts), 256):
        run(texts[start : start + 256])
    per_second = len(texts) / (time.perf_counter() - started)
    print(f"  {label}: {per_second:,.0f} messages/s")
    return per_second


def footprint() -> None:
    import onnxruntime
    import tokenizers

    def size(path: Path) -> float:
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6

    encoder_dir = ROOT / "classifiers" / "encoder"
    print(f"install footprint: onnxruntime {size(Path(onnxruntime.__file__).parent):.0f} MB, "
          f"tokenizers {size(Path(tokenizers.__file__).parent):.0f} MB, encoder files "
          f"{sum(f.stat().st_size for f in encoder_dir.glob('*.onnx')) / 1e6 + 0.5:.0f} MB (no PyTorch)")


def timed_command(args: list[str], config: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "amends"), "--config", str(config), *args], check=True,
                   stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def training(config_text: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        models = Path(scratch) / "models"
        config = Path(scratch) / "amends.toml"
        config.write_text(config_text.replace("{model_dir}", str(models)).replace("{db}", str(Path(scratch) / "a.db")))
        cold = timed_command(["train"], config)
        warm = timed_command(["retrain", "--force"], config)
        print(f"amends train, no cached vectors: {cold:.0f} s; amends retrain with them: {warm:.0f} s "
              "(goal: retrain < 120 s on 2 cores)")
        shutil.rmtree(models)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--config", default=str(ROOT / "config" / "demo.toml"))
    parser.add_argument("--train", action="store_true", help="also time training and retraining")
    args = parser.parse_args()

    model_dir = Path(load_config(args.config).classifier.model_dir)
    version = model_dir_version(model_dir)
    if version is None:
        raise SystemExit(f"no active model in {model_dir}: run `amends train` first")
    if args.train:  # before pinning: training uses every core
        training('[imap]\nusername = "bench@example.com"\n[classifier]\nmodel_dir = "{model_dir}"\n'
                 '[store]\npath = "{db}"\n')
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    path = model_dir / version
    started = time.perf_counter()
    classifier = Classifier.load(path)  # includes the ONNX session and a first encoding
    load_seconds = time.perf_counter() - started
    size = (path / "model.skops").stat().st_size

    corpus = [record_text(r) for r in read_jsonl([CORPUS])]
    short = [corpus[i % len(corpus)] for i in range(args.messages)]
    long = []
    for i in range(args.messages):
        text = corpus[i % len(corpus)]
        j = i
        while len(text) < 1500:
            j += 7
            text += "\n\n" + corpus[j % len(corpus)]
        long.append(text)
    thresholds = Thresholds()
    print(f"model {version}, on one core")
    for label, texts in (("corpus mail", short), ("email-length mail (~1,500 chars)", long)):
        chars = sum(map(len, texts)) / len(texts)
        print(f"{label}, {len(texts):,} messages of {chars:,.0f} characters on average:")
        full = rate("classify (everything the worker does)", texts, lambda t: classifier.classify_many(t, thresholds))
        raw = rate("raw limit: the sentence encoder alone", texts, classifier.encoder.encode)
        print(f"  classify runs at {full / raw:.0%} of the encoder's rate (goal >= 50 messages/s)")
    print(f"model load: {load_seconds * 1000:.0f} ms (goal < 2 s); model file {size / 1e6:.1f} MB")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (goal < 600 MiB)")
    footprint()
    meta = json.loads((path / "meta.json").read_text())["metrics"]
    print("group K-fold figures from the model's metadata (secondary: see `amends evaluate` for real text):")
    for source, m in sorted(meta.get("by_source", {}).items()):
        print(f"  {source:10s} complaint macro-F1 {m['macro_f1']:.3f} (n={m['support']:,})")


if __name__ == "__main__":
    main()
