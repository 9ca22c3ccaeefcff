-- Events (事件) and their history. Both grow with the work: the county-level region_code leads
-- their primary keys. The workflow's flags are kept as JSON (`flow`) beside the columns that
-- queries filter and sort on (state, grid, department, due time).

CREATE TABLE events (
    region_code TEXT NOT NULL,             -- county
    id UUID NOT NULL,                      -- UUIDv7
    code TEXT NOT NULL UNIQUE,             -- county 6 digits + YYYYMMDD + 6-digit daily sequence
    tracking_code TEXT NOT NULL UNIQUE,    -- random, for the reporter; never the sequential code
    category_code TEXT NOT NULL,
    domain TEXT NOT NULL,
    urgency TEXT NOT NULL,
    state TEXT NOT NULL,
    flow TEXT NOT NULL,
    version BIGINT NOT NULL,
    source TEXT NOT NULL,
    description TEXT NOT NULL,
    address TEXT,
    lon DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    grid_code TEXT NOT NULL,
    reporter_account UUID,
    reporter_phone_enc TEXT,
    reporter_phone_idx TEXT,
    idempotency_key TEXT UNIQUE,
    lead_department TEXT,
    departments TEXT NOT NULL,             -- space-separated ids of every department on the event
    step TEXT,                             -- accept | check_in | handle | verify, none when finished
    step_started_at TIMESTAMPTZ,
    step_due_at TIMESTAMPTZ,
    step_due_provisional BIGINT NOT NULL,
    suspended_at TIMESTAMPTZ,
    extension_minutes BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (region_code, id)
);
CREATE INDEX events_grid ON events (grid_code, created_at);
CREATE INDEX events_due ON events (step_due_at);
CREATE INDEX events_state ON events (state, created_at);

CREATE TABLE event_moves (
    region_code TEXT NOT NULL,
    event_id UUID NOT NULL,
    seq BIGINT NOT NULL,
    move TEXT NOT NULL,
    body TEXT NOT NULL,                    -- the move as sent (JSON), personal identifiers never included
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    department TEXT,
    ip TEXT,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (region_code, event_id, seq)
);

-- The daily sequence behind event codes: one row per county and day, bumped atomically.
CREATE TABLE event_sequences (
    county TEXT NOT NULL,
    day TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (county, day)
);
