-- Search analytics: what was searched for and how often it found nothing.
-- No personal data: the normalised query text and counts only.
CREATE TABLE search_queries (
    query TEXT PRIMARY KEY,
    searches BIGINT NOT NULL,
    zero_results BIGINT NOT NULL,
    last_searched TEXT NOT NULL
);
