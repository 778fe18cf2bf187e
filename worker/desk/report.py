"""What goes wrong most, and how well we put it right: figures from the store, charts as PNG.

Over the store's rows: ``build_report`` returns numbers; ``write_charts`` draws them.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from classifiers.labels import CATEGORIES, SEVERITIES

from ..store import Store, iso

# Greetings, sign-offs and mail furniture: frequent in complaints, never a root cause.
_GREETINGS = {"dear", "sir", "madam", "hello", "hi", "hey", "morning", "afternoon", "evening", "good", "regards",
              "kind", "best", "thanks", "thank", "cheers", "sincerely", "faithfully", "yours", "team", "support",
              "sent", "iphone", "android", "mail", "email", "wrote", "please", "customer", "service"}


@dataclass
class Report:
    since: str | None
    complaints: int = 0
    per_week: dict[str, Counter] = field(default_factory=dict)
    severity_mix: Counter = field(default_factory=Counter)
    first_reply_hours: list[float] = field(default_factory=list)
    decisions: Counter = field(default_factory=Counter)
    decisions_per_week: dict[str, Counter] = field(default_factory=dict)
    reopened: int = 0
    edit_ratio: list[float] = field(default_factory=list)
    csat: dict[str, list[int]] = field(default_factory=dict)
    repeat_rate: float = 0.0
    terms: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # category -> (phrase, complaints)

    def charts(self) -> list[str]:
        """The charts that have something to show (an empty one would be a broken image)."""
        have = {"complaints-per-week": self.per_week, "severity-mix": self.severity_mix,
                "decisions-per-week": self.decisions_per_week, "csat-by-severity": self.csat}
        return [name for name, data in have.items() if data]

    def approval_rates(self) -> dict[str, tuple[float, float, int]]:
        """Per week: (share approved, share rejected, drafts decided)."""
        rates = {}
        for week, counts in self.decisions_per_week.items():
            decided = counts["approved"] + counts["rejected"]
            rates[week] = (counts["approved"] / decided, counts["rejected"] / decided, decided)
        return rates

    @staticmethod
    def median(values: list[float]) -> float | None:
        if not values:
            return None
        ordered = sorted(values)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _edit_distance_ratio(a: str, b: str) -> float:
    """Share of the drafted text the reviewer changed (0: sent as drafted)."""
    from difflib import SequenceMatcher

    return round(1 - SequenceMatcher(None, a, b, autojunk=False).ratio(), 3)


def _week(timestamp: str) -> str:
    return datetime.fromisoformat(timestamp).strftime("%G-W%V")


def build_report(store: Store, since: datetime | None = None) -> Report:
    start = iso(since) if since else "0000"
    report = Report(since=iso(since) if since else None)
    rows = store.complaints_since(start)
    report.complaints = len(rows)
    per_week: dict[str, Counter] = defaultdict(Counter)
    cases: dict[str, set] = defaultdict(set)
    for row in rows:
        week = _week(row["date"])
        per_week[week][row["category"]] += 1
        report.severity_mix[row["severity"]] += 1
        cases[row["from_addr"]].add(row["conversation_id"])
    report.per_week = dict(sorted(per_week.items()))
    # A repeat complainer has more than one case; chasers in one thread are not repeats.
    report.repeat_rate = round(sum(1 for c in cases.values() if len(c) > 1) / len(cases), 3) if cases else 0.0
    report.terms = root_causes(rows, store.from_people_texts(start))
    for draft in store.draft_outcomes_since(start):
        report.decisions[draft["state"]] += 1
        report.reopened += int(bool(draft["survey_id"]))
        if draft["state"] == "sent":
            hours = (datetime.fromisoformat(draft["sent_at"]) - datetime.fromisoformat(draft["date"])).total_seconds() / 3600
            report.first_reply_hours.append(round(hours, 2))
            report.edit_ratio.append(_edit_distance_ratio(draft["rendered_body"], draft["body"]))
    decided: dict[str, dict[int, str]] = defaultdict(dict)
    for row in store.decisions_since(start):  # the last decision on a draft in a week counts
        decided[_week(row["at"])][row["draft_id"]] = row["action"]
    report.decisions_per_week = {week: Counter(actions.values()) for week, actions in sorted(decided.items())}
    for survey in store.survey_scores_since(start):
        report.csat.setdefault(survey["severity"] or "unknown", []).append(survey["score"])
    return report


def root_causes(complaints: list[dict], mail: list[dict], top: int = 8) -> dict[str, list[tuple[str, int]]]:
    """Per category, the words and two-word phrases that set its complaints apart from all the
    mail the team gets (TF-IDF: frequent here, rare elsewhere), without names and greetings.
    Each comes with the number of complaints that use it."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    if not complaints or not mail:
        return {}
    names = {part.lower() for row in mail for part in re.findall(r"[^\W\d_]+", row.get("from_name") or "")}
    stop = sorted(ENGLISH_STOP_WORDS | _GREETINGS | names)
    vectorizer = CountVectorizer(ngram_range=(1, 2), stop_words=stop, token_pattern=r"(?u)\b[^\W\d_][^\W\d_']{2,}\b",
                                 lowercase=True, min_df=1, binary=True)
    try:
        everything = vectorizer.fit_transform([row["new_text"] or "" for row in mail])
    except ValueError:  # nothing but stop words
        return {}
    idf = np.log((1 + everything.shape[0]) / (1 + np.asarray(everything.sum(axis=0)).ravel())) + 1
    vocabulary = vectorizer.get_feature_names_out()
    phrase = np.array([1.5 if " " in term else 1.0 for term in vocabulary])  # a phrase says more than a word
    out: dict[str, list[tuple[str, int]]] = {}
    for category in CATEGORIES:
        texts = [row["new_text"] or "" for row in complaints if row["category"] == category]
        if not texts:
            continue
        used = np.asarray(vectorizer.transform(texts).sum(axis=0)).ravel()
        scores = used * idf * phrase
        # A phrase counts once two complaints share it; with stop words gone, a one-off pair is noise.
        floor = np.where(phrase > 1, 2, min(2, len(texts)))
        ranked = [i for i in np.argsort(-scores, kind="stable") if used[i] >= floor[i]][:top]
        if ranked:
            out[category] = [(str(vocabulary[i]), int(used[i])) for i in ranked]
    return out


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_charts(report: Report, directory: Path, only: set[str] | None = None) -> list[Path]:
    """Draw the charts that have data (``only``: just these) as PNG files in ``directory``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    wanted = set(report.charts()) & (only if only is not None else set(report.charts()))
    written = []
    if "complaints-per-week" in wanted:
        weeks = list(report.per_week)
        fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
        bottom = [0] * len(weeks)
        for category in CATEGORIES:
            values = [report.per_week[w].get(category, 0) for w in weeks]
            if any(values):
                ax.bar(weeks, values, bottom=bottom, label=category)
                bottom = [b + v for b, v in zip(bottom, values)]
        ax.set_title("Complaints per week, by category")
        ax.set_ylabel("complaints")
        ax.legend(fontsize=8, ncols=2)
        fig.autofmt_xdate()
        written.append(_save(plt, fig, directory / "complaints-per-week.png"))
    if "severity-mix" in wanted:
        fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
        levels = [s for s in SEVERITIES if report.severity_mix.get(s)]
        ax.bar(levels, [report.severity_mix[s] for s in levels], color=["#2f855a", "#b7791f", "#c05621", "#c53030"][: len(levels)])
        ax.set_title("Severity mix")
        written.append(_save(plt, fig, directory / "severity-mix.png"))
    if "decisions-per-week" in wanted:
        rates = report.approval_rates()
        weeks = list(rates)
        fig, ax = plt.subplots(figsize=(8, 4), dpi=110)
        approved = [rates[w][0] * 100 for w in weeks]
        ax.bar(weeks, approved, label="approved", color="#2f855a")
        ax.bar(weeks, [rates[w][1] * 100 for w in weeks], bottom=approved, label="rejected", color="#c53030")
        for x, week in enumerate(weeks):
            ax.annotate(f"n={rates[week][2]}", (x, 101), ha="center", fontsize=8)
        ax.set_ylim(0, 110)
        ax.set_ylabel("% of drafts decided that week")
        ax.set_title("Approval and rejection of drafts, per week")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
        fig.autofmt_xdate()
        written.append(_save(plt, fig, directory / "decisions-per-week.png"))
    if "csat-by-severity" in wanted:
        fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
        levels = [s for s in SEVERITIES if s in report.csat]
        ax.bar(levels, [sum(report.csat[s]) / len(report.csat[s]) for s in levels], color="#2b6cb0")
        ax.set_ylim(0, 5)
        ax.set_title("CSAT after recovery, by severity (1-5)")
        written.append(_save(plt, fig, directory / "csat-by-severity.png"))
    return written
