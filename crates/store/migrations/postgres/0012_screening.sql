-- Screening (矛盾纠纷排查): a recurring round per grid, and each round done with what it found.
CREATE TABLE screening_schedules (
    grid_code TEXT PRIMARY KEY,
    every_days BIGINT NOT NULL,
    next_due_at TIMESTAMPTZ NOT NULL,
    last_done_at TIMESTAMPTZ,
    set_by TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX screening_schedules_due ON screening_schedules (next_due_at);

CREATE TABLE screenings (
    id UUID PRIMARY KEY,
    grid_code TEXT NOT NULL,
    done_at TIMESTAMPTZ NOT NULL,
    done_by TEXT NOT NULL,
    findings BIGINT NOT NULL,              -- how many disputes or hazards were found
    notes TEXT NOT NULL
);
CREATE INDEX screenings_grid ON screenings (grid_code, done_at);
