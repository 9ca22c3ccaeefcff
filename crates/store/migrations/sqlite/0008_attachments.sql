-- Photos of events, stored content-addressed on disk (by SHA-256) under the data dir; the table
-- says which event each belongs to and in which role (the report, before, after).
CREATE TABLE attachments (
    region_code TEXT NOT NULL,
    event_id BLOB NOT NULL,
    id BLOB NOT NULL,
    sha256 TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    kind TEXT NOT NULL,                -- report | before | after
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (region_code, event_id, id)
);
