"""Classifier benchmark: throughput on one core, load time, model size, memory, held-out F1.

    python benchmarks/classify.py [--messages 10000]

Uses the active model (config/amends.toml's classifier.model_dir; `amends train` makes one).
Throughput is measured on one thread (BLAS pinned to one), on realistic mail from the corpus.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.model import Classifier, Thresholds, model_dir_version  # noqa: E402
from classifiers.train import DEFAULT_DATA, read_jsonl, record_text  # noqa: E402
from worker.config import load_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--config", default=str(ROOT / "config" / "amends.toml"))
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    model_dir = Path(load_config(args.config).classifier.model_dir)
    version = model_dir_version(model_dir)
    if version is None:
        raise SystemExit(f"no active model in {model_dir}: run `amends train` first")
    path = model_dir / version
    started = time.perf_counter()
    classifier = Classifier.load(path)
    load_seconds = time.perf_counter() - started
    size = (path / "model.skops").stat().st_size

    corpus = [record_text(r) for r in read_jsonl([DEFAULT_DATA])]
    texts = [corpus[i % len(corpus)] for i in range(args.messages)]
    classifier.classify_many(texts[:100], Thresholds())  # warm up
    started = time.perf_counter()
    for start in range(0, len(texts), 512):
        classifier.classify_many(texts[start : start + 512], Thresholds())
    seconds = time.perf_counter() - started

    meta = json.loads((path / "meta.json").read_text())["metrics"]
    print(f"model {version}")
    print(f"classify: {args.messages / seconds:,.0f} messages/s on one core "
          f"({args.messages:,} in {seconds:.2f} s; goal >= 2,000)")
    print(f"model load: {load_seconds * 1000:.0f} ms (goal < 1 s); model file {size / 1e6:.1f} MB")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print("held-out figures (group K-fold by situation, from the model's metadata):")
    print(f"  complaint F1 {meta['complaint']['f1']:.3f} (precision {meta['complaint']['precision']:.3f}, "
          f"recall {meta['complaint']['recall']:.3f})")
    print(f"  severity macro-F1 {meta['severity']['macro_f1']:.3f}")
    print(f"  category macro-F1 {meta['category']['macro_f1']:.3f}")


if __name__ == "__main__":
    main()
