-- Queues over a whole county or city read the newest events first through this index (with
-- paging by the last row seen), instead of sorting every event of the area.
CREATE INDEX events_recent ON events (created_at, id);

-- The command centre's "closed today".
CREATE INDEX events_closed_recent ON events (state, updated_at);
