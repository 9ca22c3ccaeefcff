-- 吹哨报到 assessment: after a whistled event closes, the street rates each summoned department's
-- response (speed, cooperation, result, 1-5). One rating per department per event.
CREATE TABLE whistle_ratings (
    region_code TEXT NOT NULL,
    event_id UUID NOT NULL,
    department TEXT NOT NULL,
    speed BIGINT NOT NULL,
    cooperation BIGINT NOT NULL,
    result BIGINT NOT NULL,
    comment TEXT NOT NULL,
    rated_by TEXT NOT NULL,
    rated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (region_code, event_id, department)
);
CREATE INDEX whistle_ratings_department ON whistle_ratings (department, rated_at);
