-- The unit, people and team registers (单位、人员、网格团队台账).
--
-- Units get the code the city gives them (existing rows are numbered within their county in the
-- order they were created, e.g. 640202000000-U00001), the person responsible with a phone
-- (encrypted, with its blind index, like every identifier), and a state. Codes are unique by the
-- import's checks rather than by an index, so that the table can still be distributed by county.
--
-- People are keyed by their ID-card number's blind index. They get a kind (人员类别: existing rows
-- take it from their team roles), the grid a grid worker serves, the department a staff member
-- belongs to, a hire date (YYYY-MM-DD) and a state: a leaver (离职) stays on record, inactive.
--
-- Team members say which team they are in: a grid's 1+4+X, or a community police office's
-- 1+N+X, whose place is a community code.
ALTER TABLE units ADD COLUMN code TEXT;
ALTER TABLE units ADD COLUMN contact_name TEXT;
ALTER TABLE units ADD COLUMN contact_phone_enc TEXT;
ALTER TABLE units ADD COLUMN contact_phone_idx TEXT;
ALTER TABLE units ADD COLUMN active BIGINT NOT NULL DEFAULT 1;
ALTER TABLE units ADD COLUMN updated_at TIMESTAMPTZ;
UPDATE units SET code = r.region_code || '-U' || lpad(r.n::text, 5, '0')
FROM (SELECT id, region_code, row_number() OVER (PARTITION BY region_code ORDER BY id) AS n
      FROM units) AS r
WHERE r.id = units.id AND r.region_code = units.region_code;
CREATE INDEX units_code ON units (code);

-- Indexed first: the kinds below are read from each person's team roles.
CREATE INDEX grid_team_members_person ON grid_team_members (person_id);
ALTER TABLE people ADD COLUMN kind TEXT;
ALTER TABLE people ADD COLUMN grid_code TEXT;
ALTER TABLE people ADD COLUMN department_id UUID;
ALTER TABLE people ADD COLUMN hired_on TEXT;
ALTER TABLE people ADD COLUMN active BIGINT NOT NULL DEFAULT 1;
ALTER TABLE people ADD COLUMN updated_at TIMESTAMPTZ;
UPDATE people SET
    kind = CASE
        WHEN employment = 'volunteer' THEN 'volunteer'
        WHEN EXISTS (SELECT 1 FROM grid_team_members m WHERE m.person_id = people.id
                     AND m.role = 'community_police') THEN 'community_police'
        WHEN EXISTS (SELECT 1 FROM grid_team_members m WHERE m.person_id = people.id
                     AND m.role = 'legal_adviser') THEN 'legal_adviser'
        WHEN EXISTS (SELECT 1 FROM grid_team_members m WHERE m.person_id = people.id
                     AND m.role = 'grid_worker')
            THEN CASE WHEN employment = 'full_time' THEN 'full_time_grid_worker'
                      ELSE 'part_time_grid_worker' END
        ELSE 'staff'
    END,
    grid_code = (SELECT MIN(m.grid_code) FROM grid_team_members m
                 WHERE m.person_id = people.id AND m.role = 'grid_worker');
CREATE INDEX people_department ON people (department_id);

ALTER TABLE grid_team_members ADD COLUMN team TEXT NOT NULL DEFAULT 'grid';
ALTER TABLE people ALTER COLUMN kind SET NOT NULL;
