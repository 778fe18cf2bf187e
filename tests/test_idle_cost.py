"""An idle pass of the worker costs the same with 2,000 messages stored as with 20,000.

Counted in SQLite virtual-machine steps (a progress handler), not in seconds: a count does not
depend on the machine, and a query that reads the whole mailbox shows up as steps growing ten
times with the mailbox.
"""

from datetime import datetime, timezone

from worker.config import parse_config
from worker.desk.jobs import schedule
from worker.desk.review import draft_pending
from worker.store import Store

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
CONFIG = parse_config('[imap]\nusername = "support@example.com"\n[followup]\nleadership = ["boss@example.com"]\n')


def mailbox_of(path, count: int) -> Store:
    """``count`` messages from people, parsed, classified (a third complaints, each answered
    and followed up) and routed: a busy desk's history with nothing left to do."""
    store = Store.open(str(path))
    db = store.db.conn
    with store.transaction():
        db.executemany(
            "INSERT INTO conversations (id, customer, subject_key, started_at, last_message_at) VALUES (?, ?, ?, ?, ?)",
            [(i, f"c{i}@example.net", f"subject {i}", "2026-11-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00")
             for i in range(1, count + 1)])
        db.executemany(
            "INSERT INTO messages (id, message_key, message_id, sha256, size, fetched_at, state, parsed_at, from_addr, "
            "subject, date, new_text, conversation_id, classified_at, routed_at) "
            "VALUES (?, ?, ?, '', 100, ?, 'parsed', ?, ?, ?, ?, 'text', ?, ?, ?)",
            [(i, f"mid:m{i}", f"m{i}", "2026-11-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00", f"c{i}@example.net",
              f"subject {i}", "2026-11-01T00:00:00+00:00", i, "2026-11-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00")
             for i in range(1, count + 1)])
        db.executemany(
            "INSERT INTO classifications (message_pk, model_version, complaint, complaint_probability, severity, "
            "category, reasons, thresholds, created_at, alert_checked) VALUES (?, 'v', ?, 0.5, ?, ?, '[]', '{}', ?, 1)",
            [(i, int(i % 3 == 0), "high" if i % 3 == 0 else None, "delivery" if i % 3 == 0 else None,
              "2026-11-01T00:00:00+00:00") for i in range(1, count + 1)])
        db.executemany(
            "INSERT INTO drafts (id, conversation_id, message_pk, state, to_addr, subject, body, rendered_body, "
            "severity, category, created_at, updated_at, sent_at, followups_at) "
            "VALUES (?, ?, ?, 'sent', ?, 'Re', 'b', 'b', 'high', 'delivery', ?, ?, ?, ?)",
            [(i, i, i, f"c{i}@example.net", *["2026-11-01T00:00:00+00:00"] * 4) for i in range(3, count + 1, 3)])
        db.executemany(
            "INSERT INTO outbox (kind, draft_id, conversation_id, message_id, to_addr, raw, state, next_attempt_at, "
            "created_at, sent_at, filed_at) VALUES ('reply', ?, ?, ?, ?, x'00', 'sent', ?, ?, ?, ?)",
            [(i, i, f"r{i}", f"c{i}@example.net", *["2026-11-01T00:00:00+00:00"] * 4) for i in range(3, count + 1, 3)])
        db.execute("INSERT INTO jobs (kind, due_at, created_at) VALUES ('daily_digest', '2027-01-01T08:30:00+00:00', ?)",
                   ["2026-11-01T00:00:00+00:00"])
    return store


def steps_of_an_idle_pass(store: Store) -> int:
    """What the worker asks SQLite on a pass with no new mail (IMAP aside)."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    store.db.conn.set_progress_handler(count, 100)
    try:
        assert store.pending_ids() == []
        assert store.unclassified() == []
        assert draft_pending(store, CONFIG, NOW).created == 0
        assert schedule(store, CONFIG, NOW).scheduled == 0
        assert store.due_jobs(NOW) == []
        assert store.outbox_due(NOW) == []
        assert not store.work_due(NOW)
    finally:
        store.db.conn.set_progress_handler(None, 0)
    return steps


def test_an_idle_pass_does_not_grow_with_the_mailbox(tmp_path):
    small = steps_of_an_idle_pass(mailbox_of(tmp_path / "small.db", 2_000))
    large = steps_of_an_idle_pass(mailbox_of(tmp_path / "large.db", 20_000))
    assert large <= small * 1.5 + 20, (small, large)
