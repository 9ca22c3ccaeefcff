-- Likely-duplicate lookups on intake: open events of a category, recent first.
CREATE INDEX events_category_recent ON events (category_code, created_at);
