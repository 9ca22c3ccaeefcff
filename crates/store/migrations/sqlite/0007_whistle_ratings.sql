-- 吹哨报到 assessment: after a whistled event closes, the street rates each summoned department's
-- response (speed, cooperation, result, 1-5). One rating per department per event.
CREATE TABLE whistle_ratings (
    region_code TEXT NOT NULL,
    event_id BLOB NOT NULL,
    department TEXT NOT NULL,
    speed INTEGER NOT NULL,
    cooperation INTEGER NOT NULL,
    result INTEGER NOT NULL,
    comment TEXT NOT NULL,
    rated_by TEXT NOT NULL,
    rated_at TEXT NOT NULL,
    PRIMARY KEY (region_code, event_id, department)
);
CREATE INDEX whistle_ratings_department ON whistle_ratings (department, rated_at);
