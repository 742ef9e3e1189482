-- The changes log position of the published entry a revision started
-- from, so that publishing it keeps changes made to the entry meanwhile
-- (a three-way merge) instead of overwriting them. Empty for a new entry
-- and for revisions started before this was kept.
ALTER TABLE revisions ADD COLUMN base_seq BIGINT;
