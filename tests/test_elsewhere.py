"""Replies sent from another mail client while Amends runs: the case is answered, and the
draft never sends the customer a second reply."""

from datetime import datetime, timezone

import pytest

from worker.desk.review import ReviewError, approve
from worker.desk.users import add_user
from worker.loop import Worker

from .conftest import intake, mail

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def outlook_reply(mailbox, key: str, to_key: str, body: str) -> bytes:
    return (f"From: Jane Doe <{mailbox.user}>\nTo: ann@example.net\nSubject: Re: Parcel late\n"
            f"Message-ID: <{key}@outlook.example>\nIn-Reply-To: <{to_key}@example.net>\n"
            f"References: <{to_key}@example.net>\nDate: Mon, 23 Nov 2026 10:30:00 +0000\n"
            f"Content-Type: text/plain; charset=utf-8\n\n{body}\n").encode()


def test_a_reply_from_another_client_answers_the_case_and_supersedes_the_draft(mailbox, make_config, store):
    config = make_config()
    worker = Worker(config, store)
    add_user(store, "Tom Baker", "correct horse battery", False, NOW)
    intake(mailbox, worker, store, config, [(mail("ann-1", "Ann <ann@example.net>", "Parcel late",
                                                  "My parcel never came.", 1, now=NOW), (True, "medium", "delivery"))], NOW)
    (draft,) = store.drafts(state="pending")
    mailbox.append(outlook_reply(mailbox, "jane-1", "ann-1", "Hi Ann, I've sent a new one today. Jane"), folder="Sent")
    mailbox.append(outlook_reply(mailbox, "jane-2", "nobody", "A note to a supplier."), folder="Sent")
    for _ in range(2):  # read once: a second pass finds nothing new
        with worker.inbox:
            worker.poll(NOW)
    stored = store.draft(draft["id"])
    assert stored["state"] == "superseded" and "answered from another mail client by Jane Doe" in stored["reject_reason"]
    with pytest.raises(ReviewError, match="answered from another mail client by Jane Doe at 23 Nov 10:30"):
        approve(store, config, draft["id"], "Tom Baker", NOW)
    ours = [m for m in store.conversation_messages(draft["conversation_id"]) if m["direction"] == "out"]
    assert [m["from_name"] for m in ours] == ["Jane Doe"]  # once, though the folder was read twice
    assert not store.has_message_id("jane-2@outlook.example")  # not a reply to a case: not ours to keep


def test_our_own_replies_filed_in_sent_are_not_taken_for_replies_from_elsewhere(mailbox, make_config, store, smtp_sink,
                                                                                tmp_path):
    from .conftest import smtp_toml

    config = make_config(smtp_toml(smtp_sink, tmp_path / "no-model"))
    worker = Worker(config, store)
    add_user(store, "Tom Baker", "correct horse battery", False, NOW)
    intake(mailbox, worker, store, config, [(mail("bo-1", "Bo <bo@example.net>", "Parcel late", "My parcel never came.",
                                                  1, now=NOW), (True, "medium", "delivery"))], NOW)
    (draft,) = store.drafts(state="pending")
    approve(store, config, draft["id"], "Tom Baker", NOW)
    with worker.inbox:
        worker.sender.send_due(NOW)  # sent, and filed in Sent
        worker.poll(NOW)
    assert store.draft(draft["id"])["state"] == "sent" and len(mailbox.flags("Sent")) == 1
    assert len([m for m in store.conversation_messages(draft["conversation_id"]) if m["direction"] == "out"]) == 1
