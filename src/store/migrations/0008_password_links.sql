-- One-time links an administrator makes so that a person can choose a
-- password (a new person, or one who has forgotten theirs). Only the
-- SHA-256 of the link's token is kept; a link works once, until it expires.
CREATE TABLE password_links (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX password_links_by_user ON password_links (user_id);

-- When each API token was last used (kept to within a minute), so that its
-- owner can see which tokens are still in use. Empty until first used.
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;
