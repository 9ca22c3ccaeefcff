-- Lights without scanning everything: when a step turns yellow is stored with it, and the last
-- light announced is remembered, so the periodic scan reads only the rows whose light changed (two
-- index ranges) and a restart announces nothing twice. Notifications are kept as records; the
-- channels (log by default) deliver them.

ALTER TABLE events ADD COLUMN yellow_at TEXT;
ALTER TABLE events ADD COLUMN light_notified TEXT NOT NULL DEFAULT 'green';
CREATE INDEX events_turning_yellow ON events (light_notified, yellow_at);
CREATE INDEX events_turning_red ON events (light_notified, step_due_at);

CREATE TABLE notifications (
    region_code TEXT NOT NULL,
    id BLOB NOT NULL,
    event_id BLOB,
    recipient TEXT NOT NULL,               -- department:<id> | region:<code>
    kind TEXT NOT NULL,                    -- yellow | red | escalated
    message TEXT NOT NULL,
    channel TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (region_code, id)
);
CREATE INDEX notifications_recipient ON notifications (recipient, created_at);
