"""What the customer asked for, as actions a reviewer confirms on the draft page before the
reply goes: done, will do (by when), or cannot (and why). The reply's answer to each ask
follows the choice, so the text never promises what the team has not agreed to do.
"""

from __future__ import annotations

import json
from datetime import datetime

from ..config import Config
from ..store import Store, iso
from .drafts import DEADLINE, Templates, render_template, tidy_text
from .review import ReviewError, check_version, get_draft

DECISIONS = {"done": "done", "will_do": "will do", "cannot": "cannot"}
LABELS = {"refund": "Refund", "replacement": "Replacement", "repair": "Repair or visit", "callback": "Call back",
          "cancel": "Cancel", "unsubscribe": "Unsubscribe", "change": "Change a detail",
          "delete_data": "Delete their data", "export_data": "A copy of their data"}


def asks_of(draft: dict) -> list[dict]:
    """Each ask with its ``decision`` (None until a reviewer chooses) and ``detail``."""
    return json.loads(draft["asks"])["asks"] if draft.get("asks") else []


def undecided(draft: dict) -> list[dict]:
    return [ask for ask in asks_of(draft) if not ask.get("decision")]


def unconfirmed(draft: dict) -> str:
    """The asks still to confirm, as a reviewer reads them ("refund, call back"); empty when none."""
    return ", ".join(LABELS[ask["kind"]].lower() for ask in undecided(draft))


def answers(templates: Templates, config: Config, draft: dict, asks: list[dict]) -> str:
    """The reply's paragraph that answers the asks, as ``asks.txt.j2`` writes it for these choices."""
    kinds = json.loads(draft["stakes"])["kinds"] if draft.get("stakes") else []
    text = render_template(templates.env(draft["language"]), "asks.txt.j2", {
        "asks": dict(json.loads(draft["asks"]), asks=asks), "deadline": DEADLINE,
        "privacy_contact": config.drafts.privacy_contact, "stakes": {"kinds": kinds}})
    return tidy_text(text).strip()


def decide(store: Store, config: Config, draft_id: int, choices: list[tuple[str, str]], by: str, now: datetime,
           version: int | None = None, templates: Templates | None = None) -> bool:
    """Record a decision (and its time or reason) for each ask, in order, and make the reply's
    answer follow them. False when the reviewer had rewritten that answer: the text is theirs,
    so it is left alone and the page says so."""
    templates = templates or Templates.load(config.drafts.templates_dir)
    with store.transaction():
        draft = get_draft(store, draft_id)
        if draft["state"] not in ("pending", "failed"):
            raise ReviewError(f"draft {draft_id} is {draft['state']}; only pending drafts can be changed")
        check_version(store, draft, version)
        asks = asks_of(draft)
        if len(choices) != len(asks):
            raise ReviewError(f"the customer asked for {len(asks)} thing(s); {len(choices)} answer(s) came")
        decided = []
        for ask, (decision, detail) in zip(asks, choices):
            detail = " ".join(detail.split())[:300]
            if decision and decision not in DECISIONS:
                raise ReviewError(f"{decision!r} is not a decision (done, will_do or cannot)")
            if decision == "will_do" and not detail:
                raise ReviewError(f"{LABELS[ask['kind']]}: say by when (e.g. \"by Friday\")")
            if decision == "cannot" and not detail:
                raise ReviewError(f"{LABELS[ask['kind']]}: say why it cannot be done; the customer is told")
            decided.append(dict(ask, decision=decision or None, detail=detail or None))
        old, new = answers(templates, config, draft, asks), answers(templates, config, draft, decided)
        followed = old in draft["body"]
        body = draft["body"].replace(old, new, 1) if followed else draft["body"]
        store.update_draft(draft_id, asks=json.dumps(dict(json.loads(draft["asks"]), asks=decided)), body=body, edited_by=by, updated_at=iso(now),
                           version=draft["version"] + 1)
        store.add_draft_version(draft_id, draft["version"] + 1, body, by, now)
    store.audit(by, "confirmed what was asked", "draft", draft_id,
                {"asks": [[a["kind"], a["decision"], a["detail"]] for a in decided], "text followed": followed}, now)
    return followed
