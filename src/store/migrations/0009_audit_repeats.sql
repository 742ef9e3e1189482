-- Repeated refusals from one address (a flood of forged sign-ins, say)
-- within a minute are one audit row with a count rather than a row each,
-- so nobody can fill the audit log from outside.
ALTER TABLE audit ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;
CREATE INDEX audit_by_event_and_time ON audit (event, at);
