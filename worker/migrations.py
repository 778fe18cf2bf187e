"""The schema, as numbered steps. A step, once released, is never edited: add a new one."""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "messages, mailboxes and conversations",
        """
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            customer TEXT,
            subject_key TEXT,
            started_at TEXT NOT NULL,
            last_message_at TEXT NOT NULL
        );
        CREATE INDEX conversations_customer ON conversations (customer, subject_key);

        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            message_key TEXT NOT NULL UNIQUE,
            message_id TEXT,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            folder TEXT,
            uid INTEGER,
            internal_date TEXT,
            fetched_at TEXT NOT NULL,
            direction TEXT NOT NULL DEFAULT 'in',
            state TEXT NOT NULL DEFAULT 'new',
            quarantine_reason TEXT,
            parsed_at TEXT,
            from_addr TEXT,
            from_name TEXT,
            reply_to TEXT,
            to_addrs TEXT,
            cc_addrs TEXT,
            subject TEXT,
            date TEXT,
            in_reply_to TEXT,
            refs TEXT,
            text TEXT,
            new_text TEXT,
            signature TEXT,
            attachments TEXT,
            automated TEXT,
            conversation_id INTEGER REFERENCES conversations (id)
        );
        CREATE INDEX messages_message_id ON messages (message_id);
        CREATE INDEX messages_state ON messages (state);
        CREATE INDEX messages_sender ON messages (from_addr, date);
        CREATE INDEX messages_conversation ON messages (conversation_id);

        CREATE TABLE raw_messages (
            message_pk INTEGER PRIMARY KEY REFERENCES messages (id),
            raw BLOB NOT NULL
        );

        CREATE TABLE locations (
            folder TEXT NOT NULL,
            uidvalidity INTEGER NOT NULL,
            uid INTEGER NOT NULL,
            message_pk INTEGER NOT NULL REFERENCES messages (id),
            PRIMARY KEY (folder, uidvalidity, uid)
        );

        CREATE TABLE mailboxes (
            folder TEXT PRIMARY KEY,
            uidvalidity INTEGER,
            last_uid INTEGER NOT NULL DEFAULT 0,
            last_check_at TEXT,
            last_error TEXT,
            last_error_at TEXT
        );
        """,
    ),
    (
        2,
        "classifications, with history",
        """
        CREATE TABLE classifications (
            id INTEGER PRIMARY KEY,
            message_pk INTEGER NOT NULL REFERENCES messages (id),
            model_version TEXT NOT NULL,
            complaint INTEGER NOT NULL,
            complaint_probability REAL NOT NULL,
            severity TEXT,
            severity_probabilities TEXT,
            category TEXT,
            category_probabilities TEXT,
            reasons TEXT NOT NULL,
            thresholds TEXT NOT NULL,
            created_at TEXT NOT NULL,
            current INTEGER NOT NULL DEFAULT 1
        );
        CREATE UNIQUE INDEX classifications_current ON classifications (message_pk) WHERE current = 1;
        CREATE INDEX classifications_message ON classifications (message_pk);
        """,
    ),
]
