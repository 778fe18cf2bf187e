"""What the model sees: words, characters, and a few signals a reader notices first.

Built to carry over from our email corpus to other complaint text (posts, reviews): words and
characters of subject and new text only, with money, time spans and repeats made explicit, and
nothing that depends on email formatting.
"""

from __future__ import annotations

import functools
import re

import numpy as np
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer, MaxAbsScaler
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer

# Every pattern here runs on text anyone can send: each is linear in the text (look-behinds
# stop a match starting inside a run it could have started earlier; repetitions are bounded).
_MONEY = re.compile(
    r"(?:[£$€¥]\s?\d[\d,.]{0,20}|(?<![\d,.])\d[\d,.]{0,20}\s?(?:pounds|dollars|euros?|eur|usd|gbp|quid|bucks)\b)",
    re.I)
_SPAN = re.compile(
    r"\b(?:\d{1,6}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|few)\s{1,5}"
    r"(?:minutes?|hours?|days?|weeks?|months?|years?)\b|\bsince\s{1,5}(?:monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|yesterday|last\s{1,5}\w{1,20}|the\s{1,5}\w{1,20})\b",
    re.I,
)
_REPEAT = re.compile(
    r"\b(?:again|still|another|(?:second|third|fourth|fifth|\d{1,3}(?:st|nd|rd|th))\s{1,5}time|every\s{1,5}time|"
    r"(?:twice|three times|several times)|same\s{1,5}(?:problem|issue|thing))\b",
    re.I,
)
_NEGATION = re.compile(r"\b(?:not|no|never|nothing|nobody|none|can't|cannot|won't|didn't|doesn't|isn't|hasn't|haven't|wasn't)\b|n't\b", re.I)
_REF = re.compile(r"#?(?<!\w)[A-Z0-9]{0,20}\d[A-Z0-9-]{3,30}\b")
_URL = re.compile(r"https?://\S{1,2000}|(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_HANDLE = re.compile(r"(?<!\w)@\w{1,50}")


def normalise(text: str) -> str:
    """Lower case, with money, time spans, references and links as tokens of their own."""
    return _normalise(text)


# Both vectorizers normalise the same texts one after the other: remember a batch's worth.
@functools.lru_cache(maxsize=2048)
def _normalise(text: str) -> str:
    text = _URL.sub(" _link_ ", text)
    text = _HANDLE.sub(" _handle_ ", text)
    text = _MONEY.sub(" _money_ ", text)
    text = _SPAN.sub(lambda m: " _span_ " + m.group(0), text)
    text = _REF.sub(" _ref_ ", text)
    return text.lower().replace("’", "'")


def dense_features(texts) -> np.ndarray:
    """Intensity signals: exclamations, shouting, money, time, repetition, negation, length."""
    rows = []
    for text in texts:
        letters = sum(map(str.isalpha, text))
        caps = sum(map(str.isupper, text)) / letters if letters else 0.0
        words = max(1, len(text.split()))
        rows.append([
            min(text.count("!"), 5) / 5,
            min(text.count("?"), 5) / 5,
            caps if letters > 20 else 0.0,
            min(len(_MONEY.findall(text)), 3) / 3,
            min(len(_SPAN.findall(text)), 3) / 3,
            min(len(_REPEAT.findall(text)), 4) / 4,
            min(len(_NEGATION.findall(text)) / words * 10, 1.0),
            min(np.log1p(words) / 6, 1.0),
        ])
    return np.asarray(rows, dtype=np.float64)


def vectorizer() -> FeatureUnion:
    words = TfidfVectorizer(
        preprocessor=normalise, ngram_range=(1, 2), min_df=2, max_features=30_000,
        sublinear_tf=True, token_pattern=r"(?u)\b\w[\w']*\b", dtype=np.float32,
    )
    # Hashed: no vocabulary to store, so the model file stays small and loads fast.
    chars = Pipeline([
        ("hash", HashingVectorizer(
            preprocessor=normalise, analyzer="char_wb", ngram_range=(3, 5), n_features=2**18,
            alternate_sign=False, norm=None, dtype=np.float32,
        )),
        ("tfidf", TfidfTransformer(sublinear_tf=True)),
    ])
    dense = Pipeline([("signals", FunctionTransformer(dense_features)), ("scale", MaxAbsScaler())])
    return FeatureUnion([("words", words), ("chars", chars), ("dense", dense)])
