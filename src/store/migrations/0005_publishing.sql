-- Publishing: passwords and lock-out, sign-in sessions, entry revisions in
-- review, and the audit log.
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TEXT;

-- A session is kept as the SHA-256 of its cookie value.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Drafts and submissions of entries; the published entry stays in
-- `entries` until a revision is published over it.
CREATE TABLE revisions (
    id TEXT PRIMARY KEY,
    entry_slug TEXT NOT NULL,
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    document TEXT NOT NULL,
    organisation TEXT NOT NULL,
    author TEXT NOT NULL,
    comment TEXT,
    reviewer TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (entry_slug, number)
);
CREATE INDEX revisions_by_state ON revisions (state);

CREATE TABLE audit (
    seq {{SEQ}},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    address TEXT
);
