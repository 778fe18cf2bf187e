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
    (
        3,
        "users, drafts, outbox, audit log, label corrections",
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            is_admin INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            last_login_at TEXT
        );

        CREATE TABLE drafts (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations (id),
            message_pk INTEGER NOT NULL REFERENCES messages (id),
            state TEXT NOT NULL,
            to_addr TEXT NOT NULL,
            to_name TEXT,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            rendered_body TEXT NOT NULL,
            severity TEXT,
            category TEXT,
            template TEXT,
            error TEXT,
            previous_draft_id INTEGER REFERENCES drafts (id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            edited_by TEXT,
            decided_by TEXT,
            decided_at TEXT,
            reject_reason TEXT,
            sent_at TEXT
        );
        CREATE INDEX drafts_state ON drafts (state, severity);
        CREATE INDEX drafts_conversation ON drafts (conversation_id);
        CREATE UNIQUE INDEX drafts_one_per_message ON drafts (message_pk);

        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL DEFAULT 'reply',
            draft_id INTEGER REFERENCES drafts (id),
            conversation_id INTEGER REFERENCES conversations (id),
            message_id TEXT NOT NULL UNIQUE,
            to_addr TEXT NOT NULL,
            raw BLOB NOT NULL,
            state TEXT NOT NULL DEFAULT 'queued',
            stage TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            filed_at TEXT
        );
        CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            object_type TEXT NOT NULL,
            object_id INTEGER,
            detail TEXT
        );
        CREATE INDEX audit_object ON audit_log (object_type, object_id);

        CREATE TABLE label_corrections (
            id INTEGER PRIMARY KEY,
            message_pk INTEGER NOT NULL REFERENCES messages (id),
            corrected_by TEXT NOT NULL,
            complaint INTEGER NOT NULL,
            severity TEXT,
            category TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX label_corrections_message ON label_corrections (message_pk);
        """,
    ),
    (
        4,
        "jobs and surveys",
        """
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            conversation_id INTEGER REFERENCES conversations (id),
            draft_id INTEGER REFERENCES drafts (id),
            message_pk INTEGER REFERENCES messages (id),
            survey_id INTEGER REFERENCES surveys (id),
            due_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'scheduled',
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            reason TEXT,
            created_at TEXT NOT NULL,
            done_at TEXT
        );
        CREATE INDEX jobs_due ON jobs (state, due_at);
        CREATE INDEX jobs_conversation ON jobs (conversation_id, state);
        CREATE UNIQUE INDEX jobs_once ON jobs (kind, message_pk);
        CREATE UNIQUE INDEX jobs_once_per_survey ON jobs (kind, survey_id);

        CREATE TABLE surveys (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations (id),
            job_id INTEGER REFERENCES jobs (id),
            severity TEXT,
            category TEXT,
            sent_at TEXT NOT NULL,
            score INTEGER,
            comment TEXT,
            answered_at TEXT,
            answered_via TEXT
        );
        CREATE INDEX surveys_conversation ON surveys (conversation_id);
        """,
    ),
    (
        5,
        "settings changed by admins at run time",
        """
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """,
    ),
    (
        6,
        "a low survey score reopens the conversation with a draft for a person",
        """
        ALTER TABLE drafts ADD COLUMN survey_id INTEGER REFERENCES surveys (id);
        DROP INDEX drafts_one_per_message;
        CREATE UNIQUE INDEX drafts_one_per_message ON drafts (message_pk) WHERE survey_id IS NULL;
        CREATE UNIQUE INDEX drafts_one_per_survey ON drafts (survey_id);
        """,
    ),
    (
        7,
        "claims: one process at a time sends an outbox row or runs a job",
        """
        ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
        ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
        ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
        ALTER TABLE jobs ADD COLUMN claimed_until TEXT;
        """,
    ),
    (
        8,
        "logins: sessions revoked server-side, failed attempts throttled",
        """
        ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE login_failures (
            key TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_at TEXT NOT NULL,
            blocked_until TEXT
        );
        """,
    ),
    (
        9,
        "cases: drafts know their kind, language, stakes, hold and version; owners, promises, viewers",
        """
        ALTER TABLE drafts ADD COLUMN kind TEXT NOT NULL DEFAULT 'complaint';
        ALTER TABLE drafts ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
        ALTER TABLE drafts ADD COLUMN customer_language TEXT;
        ALTER TABLE drafts ADD COLUMN stakes TEXT;
        ALTER TABLE drafts ADD COLUMN hold_role TEXT;
        ALTER TABLE drafts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE conversations ADD COLUMN owner TEXT;
        ALTER TABLE users ADD COLUMN roles TEXT NOT NULL DEFAULT '';
        ALTER TABLE users ADD COLUMN email TEXT;
        ALTER TABLE surveys ADD COLUMN answer_message_pk INTEGER REFERENCES messages (id);
        ALTER TABLE outbox ADD COLUMN promise_hours REAL;
        ALTER TABLE outbox ADD COLUMN promise_text TEXT;

        CREATE TABLE draft_versions (
            draft_id INTEGER NOT NULL REFERENCES drafts (id),
            version INTEGER NOT NULL,
            body TEXT NOT NULL,
            saved_by TEXT NOT NULL,
            saved_at TEXT NOT NULL,
            PRIMARY KEY (draft_id, version)
        );

        CREATE TABLE draft_views (
            draft_id INTEGER NOT NULL REFERENCES drafts (id),
            user_name TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            PRIMARY KEY (draft_id, user_name)
        );

        CREATE TABLE commitments (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations (id),
            draft_id INTEGER NOT NULL UNIQUE REFERENCES drafts (id),
            owner TEXT NOT NULL,
            promise TEXT NOT NULL,
            due_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'open',
            created_at TEXT NOT NULL,
            closed_at TEXT,
            closed_reason TEXT
        );
        CREATE INDEX commitments_open ON commitments (state, due_at);

        CREATE INDEX messages_conversation_direction ON messages (conversation_id, direction, id);
        """,
    ),
    (
        10,
        "an idle pass costs the same whatever the size of the mailbox: what is left to do is indexed",
        """
        ALTER TABLE messages ADD COLUMN classified_at TEXT;
        ALTER TABLE messages ADD COLUMN routed_at TEXT;
        UPDATE messages SET classified_at = (SELECT c.created_at FROM classifications c
                                             WHERE c.message_pk = messages.id AND c.current = 1);
        UPDATE messages SET routed_at = classified_at WHERE classified_at IS NOT NULL;
        CREATE INDEX messages_unclassified ON messages (id)
            WHERE classified_at IS NULL AND state = 'parsed' AND automated IS NULL AND direction = 'in';
        CREATE INDEX messages_unrouted ON messages (id) WHERE routed_at IS NULL AND classified_at IS NOT NULL;

        ALTER TABLE classifications ADD COLUMN alert_checked INTEGER;
        UPDATE classifications SET alert_checked = 1;
        CREATE INDEX classifications_unchecked ON classifications (id)
            WHERE alert_checked IS NULL AND current = 1 AND complaint = 1;

        ALTER TABLE drafts ADD COLUMN followups_at TEXT;
        UPDATE drafts SET followups_at = updated_at WHERE state = 'sent';
        CREATE INDEX drafts_sent_unscheduled ON drafts (id) WHERE state = 'sent' AND followups_at IS NULL;

        CREATE INDEX outbox_unfiled ON outbox (id) WHERE state = 'sent' AND filed_at IS NULL;
        CREATE INDEX outbox_draft ON outbox (draft_id);
        """,
    ),
    (
        11,
        "several mailboxes in one desk: cursors, locations, messages, conversations and outbox rows name theirs",
        """
        CREATE TABLE cursors (
            mailbox TEXT NOT NULL DEFAULT 'default',
            folder TEXT NOT NULL,
            uidvalidity INTEGER,
            last_uid INTEGER NOT NULL DEFAULT 0,
            last_check_at TEXT,
            last_error TEXT,
            last_error_at TEXT,
            PRIMARY KEY (mailbox, folder)
        );
        INSERT INTO cursors (mailbox, folder, uidvalidity, last_uid, last_check_at, last_error, last_error_at)
            SELECT 'default', folder, uidvalidity, last_uid, last_check_at, last_error, last_error_at FROM mailboxes;
        DROP TABLE mailboxes;
        ALTER TABLE cursors RENAME TO mailboxes;

        CREATE TABLE places (
            mailbox TEXT NOT NULL DEFAULT 'default',
            folder TEXT NOT NULL,
            uidvalidity INTEGER NOT NULL,
            uid INTEGER NOT NULL,
            message_pk INTEGER NOT NULL REFERENCES messages (id),
            PRIMARY KEY (mailbox, folder, uidvalidity, uid)
        );
        INSERT INTO places (mailbox, folder, uidvalidity, uid, message_pk)
            SELECT 'default', folder, uidvalidity, uid, message_pk FROM locations;
        DROP TABLE locations;
        ALTER TABLE places RENAME TO locations;
        CREATE INDEX locations_message ON locations (message_pk);

        ALTER TABLE messages ADD COLUMN mailbox TEXT NOT NULL DEFAULT 'default';
        ALTER TABLE conversations ADD COLUMN mailbox TEXT NOT NULL DEFAULT 'default';
        ALTER TABLE outbox ADD COLUMN mailbox TEXT NOT NULL DEFAULT 'default';
        """,
    ),
    (
        12,
        "OAuth2 sign-ins: a mailbox's refresh token, encrypted, and whether it still works",
        """
        CREATE TABLE oauth_tokens (
            mailbox TEXT PRIMARY KEY,
            refresh_token BLOB NOT NULL,
            state TEXT NOT NULL DEFAULT 'ok',
            error TEXT,
            signed_in_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """,
    ),
    (
        13,
        "drop messages_conversation: messages_conversation_direction starts with the same column",
        """
        DROP INDEX IF EXISTS messages_conversation;
        """,
    ),
    (
        14,
        "claims carry a token; a message's identity includes its content; drafts keep their Message-ID",
        """
        ALTER TABLE outbox ADD COLUMN claim_token TEXT;
        ALTER TABLE jobs ADD COLUMN claim_token TEXT;
        ALTER TABLE messages ADD COLUMN content_key TEXT;
        ALTER TABLE drafts ADD COLUMN message_id TEXT;
        """,
    ),
    (
        15,
        "what the customer asked for, as actions the reviewer confirms (JSON)",
        """
        ALTER TABLE drafts ADD COLUMN asks TEXT;
        """,
    ),
    (
        16,
        "praise and thanks are their own label: a thank-you is drafted, never an apology",
        """
        ALTER TABLE classifications ADD COLUMN praise INTEGER NOT NULL DEFAULT 0;
        """,
    ),
    (
        17,
        "the name a reviewer signs replies with, when their login is not it",
        """
        ALTER TABLE users ADD COLUMN signs_as TEXT;
        """,
    ),
]
