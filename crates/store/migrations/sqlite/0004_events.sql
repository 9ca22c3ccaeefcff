-- Events (事件) and their history. Both grow with the work: the county-level region_code leads
-- their primary keys. The workflow's flags are kept as JSON (`flow`) beside the columns that
-- queries filter and sort on (state, grid, department, due time).

CREATE TABLE events (
    region_code TEXT NOT NULL,             -- county
    id BLOB NOT NULL,                      -- UUIDv7
    code TEXT NOT NULL UNIQUE,             -- county 6 digits + YYYYMMDD + 6-digit daily sequence
    tracking_code TEXT NOT NULL UNIQUE,    -- random, for the reporter; never the sequential code
    category_code TEXT NOT NULL,
    domain TEXT NOT NULL,
    urgency TEXT NOT NULL,
    state TEXT NOT NULL,
    flow TEXT NOT NULL,
    version INTEGER NOT NULL,
    source TEXT NOT NULL,
    description TEXT NOT NULL,
    address TEXT,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    grid_code TEXT NOT NULL,
    reporter_account BLOB,
    reporter_phone_enc TEXT,
    reporter_phone_idx TEXT,
    idempotency_key TEXT UNIQUE,
    lead_department TEXT,
    departments TEXT NOT NULL,             -- space-separated ids of every department on the event
    step TEXT,                             -- accept | check_in | handle | verify, none when finished
    step_started_at TEXT,
    step_due_at TEXT,
    step_due_provisional INTEGER NOT NULL,
    suspended_at TEXT,
    extension_minutes INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (region_code, id)
);
CREATE INDEX events_grid ON events (grid_code, created_at);
CREATE INDEX events_due ON events (step_due_at);
CREATE INDEX events_state ON events (state, created_at);

CREATE TABLE event_moves (
    region_code TEXT NOT NULL,
    event_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    move TEXT NOT NULL,
    body TEXT NOT NULL,                    -- the move as sent (JSON), personal identifiers never included
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    department TEXT,
    ip TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (region_code, event_id, seq)
);

-- The daily sequence behind event codes: one row per county and day, bumped atomically.
CREATE TABLE event_sequences (
    county TEXT NOT NULL,
    day TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (county, day)
);
