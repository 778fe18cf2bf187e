"""Figures a person can act on: per-head precision, recall, F1, confusion, threshold tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_curve, precision_recall_fscore_support


def head_metrics(y_true: list, y_pred: list, labels: list) -> dict:
    if not y_true:
        return {"support": 0}
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    out = {
        "support": len(y_true),
        "accuracy": round(float(np.mean(np.array(y_true, dtype=object) == np.array(y_pred, dtype=object))), 4),
        "macro_f1": round(float(np.mean([f[i] for i in range(len(labels)) if s[i] > 0])), 4),
        "per_label": {
            str(label): {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                         "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i, label in enumerate(labels)
        },
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "labels": [str(label) for label in labels],
    }
    if labels == [0, 1]:
        out.update(precision=round(float(p[1]), 4), recall=round(float(r[1]), 4), f1=round(float(f[1]), 4))
    return out


def threshold_table(y_true: list[int], scores: list[float], steps: tuple[float, ...] = tuple(np.round(np.arange(0.1, 1.0, 0.1), 1))) -> list[dict]:
    y = np.array(y_true)
    s = np.array(scores)
    rows = []
    for t in steps:
        pred = s >= t
        tp = int(np.sum(pred & (y == 1)))
        fp = int(np.sum(pred & (y == 0)))
        fn = int(np.sum(~pred & (y == 1)))
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"threshold": float(t), "precision": round(precision, 4), "recall": round(recall, 4),
                     "f1": round(f1, 4), "flagged": int(pred.sum())})
    return rows


def pr_curve_png(y_true: list[int], scores: list[float], path: Path, title: str, marked: float | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    precision, recall, thresholds = precision_recall_curve(y_true, scores)
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=110)
    ax.plot(recall, precision, color="#2b6cb0", linewidth=2)
    for t in (0.3, 0.5, 0.7, 0.9):
        i = int(np.searchsorted(thresholds, t))
        if i < len(thresholds):
            ax.scatter([recall[i]], [precision[i]], color="#c05621", zorder=3)
            ax.annotate(f"{t:.1f}", (recall[i], precision[i]), textcoords="offset points", xytext=(6, -12))
    if marked is not None:
        i = int(np.searchsorted(thresholds, marked))
        if i < len(thresholds):
            ax.scatter([recall[i]], [precision[i]], s=90, facecolors="none", edgecolors="#2f855a", linewidths=2, zorder=4,
                       label=f"current threshold {marked:.2f}")
            ax.legend(loc="lower left")
    ax.set_xlabel("recall (complaints found)")
    ax.set_ylabel("precision (flagged that are complaints)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
