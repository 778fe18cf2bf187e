"""Which language the customer wrote in, so the reply can be in it (or the reviewer told).

py3langid (a maintained fork of langid.py, trained on 97 languages) decides; word lists would
mistake "Order 51177" or a signature for a language. Short or unsure text counts as unknown:
the reply is then drafted in the default language without a notice.
"""

from __future__ import annotations

import threading
from functools import lru_cache

MIN_CHARS = 20
MIN_CONFIDENCE = 0.9
NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "nl": "Dutch",
    "pt": "Portuguese", "pl": "Polish", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish",
    "cs": "Czech", "tr": "Turkish", "ru": "Russian", "uk": "Ukrainian", "ar": "Arabic", "zh": "Chinese",
    "ja": "Japanese", "ko": "Korean", "el": "Greek", "hu": "Hungarian", "ro": "Romanian",
}
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str) -> str | None:
    """An ISO 639-1 code, or None when the text is too short or the identifier unsure."""
    text = " ".join(text[:4000].split())
    if sum(ch.isalpha() for ch in text) < MIN_CHARS:
        return None
    with _lock:  # the identifier keeps scratch state between calls
        code, confidence = _identifier().classify(text)
    return code if confidence >= MIN_CONFIDENCE else None


def name(code: str | None) -> str:
    return NAMES.get(code or "", code or "an unknown language")
