-- An event is addressed by its id alone (`/api/v1/events/{id}`); the primary key starts with the
-- county, so without this index every such read scans the table.
CREATE UNIQUE INDEX events_id ON events (id);

-- Likely-duplicate lookups on intake: only open events, by category and latitude band, so the
-- lookup reads the few open events near the point instead of every recent event of the category
-- (a busy category has thousands a day). Closed events leave the index.
CREATE INDEX events_open_near ON events (category_code, lat) WHERE state NOT IN ('closed', 'rejected', 'merged');

-- An event's notices, shown with the event.
CREATE INDEX notifications_event ON notifications (event_id, created_at);
