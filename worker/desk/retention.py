"""How long Amends keeps people's mail: ``[store] raw_days`` for the raw bytes of each message
(its parsed text stays), ``[store] case_days`` for a whole case once it has been quiet that
long with nothing left to do (its words and addresses are erased as `amends customer erase`
does; dates, labels and states stay for the report). Zero keeps everything. Applied by a daily
job, or by `amends retention`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..config import Config
from ..store import Store, iso

CHUNK = 500  # cases or messages per transaction: a first run over years of mail holds no lock for long


@dataclass
class Retained:
    raw_deleted: int = 0
    cases_erased: int = 0
    messages_erased: int = 0

    def describe(self) -> str:
        return (f"raw mail of {self.raw_deleted} message(s) deleted; {self.cases_erased} quiet case(s) "
                f"({self.messages_erased} message(s)) erased")


def apply_retention(store: Store, config: Config, now: datetime, dry_run: bool = False) -> Retained:
    done = Retained()
    keep = config.store
    if keep.raw_days:
        before = iso(now - timedelta(days=keep.raw_days))
        if dry_run:
            done.raw_deleted = store.count_raw_older_than(before)
        while not dry_run and (ids := store.raw_older_than(before, CHUNK)):
            done.raw_deleted += len(ids)
            store.delete_raw(ids)
    if keep.case_days:
        cases = store.closed_cases_older_than(iso(now - timedelta(days=keep.case_days)))
        for start in range(0, len(cases), CHUNK):
            part = cases[start:start + CHUNK]
            messages, drafts = store.case_contents(part)
            done.cases_erased += len(part)
            done.messages_erased += len(messages)
            if not dry_run:
                store.erase_customer_rows(part, messages, drafts, f"kept for {keep.case_days} days ([store] case_days)")
    if not dry_run and (done.raw_deleted or done.cases_erased):
        store.audit("amends", "applied retention", "store", None,
                    {"raw_days": keep.raw_days, "case_days": keep.case_days, **vars(done)}, now)
    return done
