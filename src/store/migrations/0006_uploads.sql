-- Spreadsheets uploaded in the browser and previewed, waiting for the
-- person who uploaded them to confirm or cancel. The content is kept as
-- text (XLSX is converted to CSV on upload).
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    author TEXT NOT NULL,
    file_name TEXT NOT NULL,
    format TEXT NOT NULL,
    content TEXT NOT NULL,
    -- Empty rows above a workbook's table, to number rows as the
    -- spreadsheet program does.
    row_offset INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX uploads_by_author ON uploads (author);
