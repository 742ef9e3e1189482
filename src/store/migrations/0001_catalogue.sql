-- The catalogue: vocabularies, organisations, entries and the changes log.
-- One text for SQLite and PostgreSQL; {{SEQ}} is the auto-increment key type.
-- Documents are JSON text; the columns beside them are derived at write
-- time so filters and sorting run in SQL.

CREATE TABLE vocabulary_terms (
    vocabulary TEXT NOT NULL,
    slug TEXT NOT NULL,
    label TEXT NOT NULL,
    description TEXT NOT NULL,
    aliases TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (vocabulary, slug)
);

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    sort_name TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE entries (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    sort_title TEXT NOT NULL,
    entry_type TEXT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES organisations (id),
    mandated INTEGER NOT NULL,
    comply_by TEXT,
    document TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX entries_by_title ON entries (sort_title);
CREATE INDEX entries_by_updated ON entries (updated_at);
CREATE INDEX entries_by_owner ON entries (owner_id);

-- care settings, topics, categories and technologies of each entry
CREATE TABLE entry_terms (
    entry_id TEXT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    vocabulary TEXT NOT NULL,
    term TEXT NOT NULL,
    PRIMARY KEY (entry_id, vocabulary, term),
    FOREIGN KEY (vocabulary, term) REFERENCES vocabulary_terms (vocabulary, slug)
);
CREATE INDEX entry_terms_by_term ON entry_terms (vocabulary, term);

-- dependencies, related entries and standards implemented
CREATE TABLE entry_links (
    entry_id TEXT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    target_id TEXT NOT NULL REFERENCES entries (id),
    PRIMARY KEY (entry_id, kind, target_id)
);
CREATE INDEX entry_links_by_target ON entry_links (target_id);

CREATE TABLE changes (
    seq {{SEQ}},
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    before_doc TEXT,
    after_doc TEXT
);
CREATE INDEX changes_by_entity ON changes (entity, entity_id);
