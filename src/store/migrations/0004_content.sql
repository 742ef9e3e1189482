-- Guides, site pages and glossary terms: JSON documents by kind and slug.
CREATE TABLE content (
    kind TEXT NOT NULL,
    slug TEXT NOT NULL,
    document TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, slug)
);
