"""The labels, decisions and thresholds Amends speaks in: light, no scikit-learn import.

Everything that only needs to name a severity or read a decision imports from here, so that
commands which never classify (sending, the review pages) start fast.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

SEVERITIES = ("low", "medium", "high", "critical")
CATEGORIES = ("delivery", "billing", "defect", "outage", "staff", "account", "privacy", "other")


@dataclass(frozen=True)
class Thresholds:
    """Decision cut-offs, from config: changing them needs no retraining."""

    complaint: float = 0.5
    medium: float = 0.5
    high: float = 0.5
    critical: float = 0.6  # measured on real text: 0.5 called one complaint in ten critical
    rule_floor: float = 0.2  # a critical rule hit counts as a complaint from this probability
    # An email says more than a tweet, and the severity heads (trained mostly on short text) read
    # more into it: from this many characters on, the cut-offs below apply. Chosen on the
    # development emails (see classifiers/data/SOURCES.md); short text keeps the ones above.
    email_from_chars: int = 250
    email_medium: float = 0.6
    email_high: float = 0.8
    email_critical: float = 0.9
    category_floor: float = 0.4  # a category less likely than this is "other", with the best guesses shown

    def severity_cuts(self, chars: int = 0) -> tuple[float, float, float]:
        """The medium, high and critical cut-offs for a text of ``chars`` characters."""
        if chars >= self.email_from_chars:
            return self.email_medium, self.email_high, self.email_critical
        return self.medium, self.high, self.critical


@dataclass
class Classification:
    complaint: bool
    complaint_probability: float
    severity: str | None
    severity_probabilities: dict[str, float] | None
    category: str | None
    category_probabilities: dict[str, float] | None
    reasons: list[str] = field(default_factory=list)
    model_version: str = ""
    rules: list[str] = field(default_factory=list)
    praise: bool = False  # thanks or praise (classifiers/praise.py): a thank-you, never an apology

    def to_json(self) -> dict:
        return asdict(self)


def message_text(subject: str | None, body: str | None) -> str:
    return f"{subject or ''}\n{body or ''}".strip()


def _version_name(version: str, where: Path) -> str:
    """A version names a directory inside the model directory, never a path out of it."""
    from worker.errors import ModelError

    if not version or version in (".", "..") or any(c in version for c in "/\\\0") or version.startswith("."):
        raise ModelError(f"{where} names {version!r}, which is not a model version in {where.parent}")
    return version


def model_dir_version(model_dir: Path) -> str | None:
    """The active version: ``ACTIVE`` in the model directory names it."""
    active = model_dir / "ACTIVE"
    try:
        version = active.read_text().strip()
    except FileNotFoundError:
        return None
    return _version_name(version, active)


def activate(model_dir: Path, version: str) -> None:
    from worker.errors import ModelError

    _version_name(version, model_dir / "ACTIVE")
    if not (model_dir / version / "meta.json").exists():
        raise ModelError(f"no model {version} in {model_dir} (see `amends model list`)")
    tmp = model_dir / "ACTIVE.tmp"
    tmp.write_text(version + "\n")
    tmp.replace(model_dir / "ACTIVE")
