-- The working calendar: days listed by the State Council's notices (off = public holiday,
-- otherwise an adjusted working day), and the years whose notice is loaded. Unlisted days follow
-- the weekday rule. Seeded from the notices that ship with the binary; an administrator loads new
-- years with `wangge calendar load`.

CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY,              -- YYYY-MM-DD
    off BIGINT NOT NULL,              -- 1 holiday, 0 adjusted working day
    name TEXT NOT NULL,
    source_year BIGINT NOT NULL       -- the notice it came from
);

CREATE TABLE calendar_years (
    year BIGINT PRIMARY KEY,
    source TEXT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL
);
