"""From a message body to the words the customer just wrote.

Three pure steps: HTML to text (``html_to_text``), cutting quoted history (``cut_quotes``) and
cutting the signature (``cut_signature``). Classifiers and drafts read ``new_text``; people
reading a conversation see the full text.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

_SKIP = {"script", "style", "head", "title", "noscript", "template", "svg", "object", "iframe"}
_BLOCK = {
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
}
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol"}
# Quote and signature containers of the common mail clients, by (tag, attribute, value).
_QUOTE_MARKS = {
    ("div", "class", "gmail_quote"), ("blockquote", "class", "gmail_quote"),
    ("blockquote", "type", "cite"), ("div", "id", "divRplyFwdMsg"), ("div", "id", "appendonsend"),
    ("div", "class", "OutlookMessageHeader"), ("div", "class", "moz-cite-prefix"),
    ("div", "class", "yahoo_quoted"), ("div", "id", "mail-editor-reference-message-container"),
}
_SIGNATURE_MARKS = {
    ("div", "class", "gmail_signature"), ("div", "class", "moz-signature"),
    ("div", "id", "Signature"), ("div", "class", "signature"),
}
# Outlook puts everything after these at the same level as the reply: drop the rest too.
_CUT_FOLLOWING = {"divRplyFwdMsg", "appendonsend"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_WHITESPACE = re.compile(r"\s+")


def _soup(html: str) -> BeautifulSoup:
    try:
        return BeautifulSoup(html, "lxml")
    except Exception:  # lxml refuses some byte soup that the slower pure-Python parser takes
        return BeautifulSoup(html, "html.parser")


def _soup_text(soup: BeautifulSoup) -> str:
    out: list[str] = []
    # An explicit stack instead of recursion: hostile mail can nest thousands of levels.
    stack: list[object] = [soup]
    while stack:
        node = stack.pop()
        if isinstance(node, str) and not isinstance(node, NavigableString):
            out.append(node)
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, (Comment, Declaration, Doctype, ProcessingInstruction)):
                out.append(_WHITESPACE.sub(" ", str(node)))
            continue
        name = node.name
        if name in _SKIP:
            continue
        if name == "br":
            out.append("\n")
            continue
        closing = _PARA_BREAK if name in _PARAGRAPH else _LINE_BREAK if name in _BLOCK else ""
        if closing:
            stack.append(closing)
        stack.extend(reversed(list(node.children)))
        if name == "li":
            stack.append("- ")
        if closing:
            stack.append(closing)
    joined = _BREAKS.sub(_merge_breaks, "".join(out))
    return tidy(joined)


# Block boundaries are marked, then each run of marks becomes one break: two adjacent blocks
# are one line apart, not two.
_LINE_BREAK, _PARA_BREAK = "\x00", "\x01"
_BREAKS = re.compile(r"[ \x00\x01]+")  # every run once, so linear however long the run


def _merge_breaks(match: re.Match) -> str:
    run = match.group(0)
    return "\n\n" if _PARA_BREAK in run else "\n" if _LINE_BREAK in run else run


_BLANK_RUNS = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    text = _SPACES.sub(" ", "\n".join(text.splitlines()))  # one pass over the text, not one per line
    return _BLANK_RUNS.sub("\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()


def html_to_text(html: str) -> str:
    return _soup_text(_soup(html))


def _marks(element: Tag) -> set[tuple[str, str, str]]:
    found = set()
    for attribute in ("class", "id", "type"):
        value = element.get(attribute)
        for item in value if isinstance(value, list) else [value] if value else []:
            found.add((element.name, attribute, item))
    return found


def html_texts(html: str) -> tuple[str, str, str]:
    """(full text, text without quoted history or signature, signature) from one parse.

    One walk in document order that never enters what it removes: linear in the document,
    however deeply its elements nest.
    """
    soup = _soup(html)
    full = _soup_text(soup)
    signature = ""
    cut: set[int] = set()  # siblings removed after a quote marker, still waiting on the stack
    stack: list[Tag] = [child for child in reversed(soup.contents) if isinstance(child, Tag)]
    while stack:
        element = stack.pop()
        if id(element) in cut:
            continue
        if element.name in ("div", "blockquote"):
            marks = _marks(element)
            if marks & _QUOTE_MARKS:
                if element.get("id") in _CUT_FOLLOWING:
                    for sibling in list(element.find_next_siblings()):
                        cut.add(id(sibling))
                        sibling.decompose()
                element.decompose()
                continue
            if marks & _SIGNATURE_MARKS:
                signature = signature or _soup_text(element)
                element.decompose()
                continue
        stack.extend(child for child in reversed(element.contents) if isinstance(child, Tag))
    return full, _soup_text(soup), signature


# -- quoted history ---------------------------------------------------------------------------

_ATTRIBUTION = re.compile(
    r"^\s*(on\b.{0,300}\bwrote|am\b.{0,300}\bschrieb|le\b.{0,300}\ba écrit|el\b.{0,300}\bescribió"
    r"|op\b.{0,300}\bschreef|il\b.{0,300}\bha scritto|em\b.{0,300}\bescreveu)\s*:?\s*$",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original"
    r"|forwarded message|weitergeleitete nachricht)\s*-{2,}|begin forwarded message:"
    r"|_{20,}|\*from:\*.*)\s*$",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(r"^\s*\*?(from|von|de|van|da)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_FOLLOW = re.compile(
    r"^\s*\*?(sent|date|gesendet|datum|envoyé|enviado|to|an|subject|betreff|objet)\s*:", re.IGNORECASE
)


# What each kind of marker needs somewhere in the text: most mail has none, and is then
# spared a pattern per line. Looked for in the lowercased text with plain substring tests:
# a case-insensitive pattern with accented alternatives costs more than the rest of the cut.
_ATTRIBUTION_WORDS = ("wrote", "schrieb", "écrit", "escribió", "schreef", "scritto", "escreveu")
_SEPARATOR_WORDS = ("--", "__", "forwarded", "*from:")
_HEADER_HINT = re.compile(r"(?:from|von|de|van|da)\s*:")


def cut_quotes(text: str) -> str:
    """Drop quoted history: "On … wrote:", Outlook header blocks, separators and ``>`` lines."""
    lines = text.splitlines()
    lowered = text.lower()
    attribution = any(word in lowered for word in _ATTRIBUTION_WORDS)
    separator = any(word in lowered for word in _SEPARATOR_WORDS)
    header = ":" in lowered and bool(_HEADER_HINT.search(lowered))
    kept: list[str] = []
    for i, line in enumerate(lines):
        # Gmail wraps long attributions over two lines: "On Mon, … <a@b.c>\nwrote:".
        if attribution and (_ATTRIBUTION.match(line) or (
            line.lstrip().lower().startswith(("on ", "am ", "le "))
            and _ATTRIBUTION.match(line + " " + lines[i + 1] if i + 1 < len(lines) else line)
        )):
            break
        if separator and _SEPARATORS.match(line):
            break
        if header and _HEADER_LINE.match(line) and any(
            _HEADER_FOLLOW.match(nxt) for nxt in lines[i + 1 : i + 4]
        ):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return tidy("\n".join(kept))


# -- signatures ---------------------------------------------------------------------------

_DEVICE = re.compile(
    r"^\s*(sent from my \w+|sent from (mail|yahoo mail|outlook) for|get outlook for \w+"
    r"|sent from (samsung|my samsung|my android|my galaxy|my huawei)|von meinem \w+ gesendet"
    r"|envoyé de mon \w+|enviado desde mi \w+|sent via \w+)",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(thanks( again| so much| in advance)?|thank you( very much)?|many thanks|kind regards"
    r"|best regards|warm regards|regards|best wishes|best|cheers|sincerely|yours sincerely"
    r"|yours faithfully|yours truly|respectfully|cordially|all the best|take care|thx|ty"
    r"|mit freundlichen grüßen|viele grüße|cordialement|saludos|un saludo)\s*[,.!]?\s*$",
    re.IGNORECASE,
)


def cut_signature(text: str, name: str = "") -> tuple[str, str]:
    """(text, signature). A sign-off counts only near the end, so "Thanks," mid-mail stays;
    without one, a last line that is just the sender's ``name`` ("Jean") is the signature, so that
    a name never reads as a reason for a verdict."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ", "—") or _DEVICE.match(line):
            return tidy("\n".join(lines[:i])), tidy("\n".join(lines[i:]))
    # A sign-off line followed by at most a few short lines (name, title, phone).
    for i in range(len(lines) - 1, max(-1, len(lines) - 8), -1):
        if _SIGN_OFF.match(lines[i]):
            tail = [t for t in lines[i + 1 :] if t.strip()]
            if len(tail) <= 5 and all(len(t) <= 60 for t in tail):
                return tidy("\n".join(lines[:i])), tidy("\n".join(lines[i:]))
            break
    words = {w.lower() for w in re.split(r"[\s,]+", name) if len(w) > 1}
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if words and len(filled) > 1:
        last = lines[filled[-1]].strip()
        if 0 < len(last.split()) <= 3 and all(w.strip(".,!-").lower() in words for w in last.split()):
            return tidy("\n".join(lines[:filled[-1]])), tidy(last)
    return tidy(text), ""


def new_text_of(text: str, name: str = "") -> tuple[str, str]:
    """(new words of the customer, their signature) from a plain-text body; ``name`` is the
    sender's display name."""
    return cut_signature(cut_quotes(text), name)
